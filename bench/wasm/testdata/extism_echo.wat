;; An Extism plugin written against the kernel imports of extism/go-sdk
;; v1.7.1 (module "extism:host/env"), as go-pdk would emit them.
;;
;; An Extism guest cannot see its input in its own memory: the input lives
;; in the Extism kernel's memory and is reached only through host calls.
;; Both exports return 0 (success) and set the output to the input.
(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_offset" (func $input_offset (result i64)))
  (import "extism:host/env" "input_load_u64" (func $input_load_u64 (param i64) (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))

  ;; echo is the PDK way: allocate an output block and copy the input into
  ;; it 8 bytes at a time (then byte by byte for the tail). go-pdk does more
  ;; (it copies the input into guest memory first and back out again), so
  ;; this is a lower bound for a PDK-built plugin.
  (func (export "echo") (result i32)
    (local $len i64) (local $out i64) (local $i i64)
    (local.set $len (call $input_length))
    (local.set $out (call $alloc (local.get $len)))
    (block $words_done
      (loop $words
        (br_if $words_done (i64.gt_u (i64.add (local.get $i) (i64.const 8)) (local.get $len)))
        (call $store_u64
          (i64.add (local.get $out) (local.get $i))
          (call $input_load_u64 (local.get $i)))
        (local.set $i (i64.add (local.get $i) (i64.const 8)))
        (br $words)))
    (block $bytes_done
      (loop $bytes
        (br_if $bytes_done (i64.ge_u (local.get $i) (local.get $len)))
        (call $store_u8
          (i64.add (local.get $out) (local.get $i))
          (call $input_load_u8 (local.get $i)))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $bytes)))
    (call $output_set (local.get $out) (local.get $len))
    (i32.const 0))

  ;; echo_ref points the output at the input block itself: no copy, two
  ;; host calls. It is the cheapest echo Extism allows, so its cost is
  ;; Extism's own per-call floor.
  (func (export "echo_ref") (result i32)
    (call $output_set (call $input_offset) (call $input_length))
    (i32.const 0))
)
