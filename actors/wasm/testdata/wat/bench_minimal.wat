;; bench_minimal: the smallest guest the runtime accepts, for the spawn and
;; memory benchmarks: one page of memory, the three required exports, no
;; imports, no WASI, no data. Kind 1 messages are echoed; other kinds get an
;; empty reply.
(module
  (memory (export "memory") 1)

  (func (export "troupe_abi_v1"))

  ;; One fixed buffer at 1025, after the status byte at 1024, so an echo
  ;; is a reply in place; a message that does not fit in the one page is
  ;; out of memory (0).
  (func (export "troupe_alloc") (param $size i32) (result i32)
    (if (i32.gt_u (local.get $size) (i32.const 64511))
      (then (return (i32.const 0))))
    (i32.const 1025))

  (func (export "troupe_receive") (param $kind i32) (param $ptr i32) (param $len i32) (result i64)
    (if (i32.ne (local.get $kind) (i32.const 1))
      (then (return (i64.const 0))))
    (i32.store8 (i32.const 1024) (i32.const 0))
    (i64.or (i64.const 0x40000000000) ;; 1024 << 32
      (i64.extend_i32_u (i32.add (local.get $len) (i32.const 1))))))
