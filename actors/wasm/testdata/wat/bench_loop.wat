;; bench_loop: a CPU-bound guest, for the cost of the termination checks
;; wazero compiles into every loop back-edge of an interruptible module. A
;; message is N as a little-endian u32; the reply is the sum 1 + 2 + ... + N
;; as a little-endian u64, computed by a loop of N iterations.
(module
  (memory (export "memory") 1)

  (func (export "troupe_abi_v1"))

  (func (export "troupe_alloc") (param $size i32) (result i32)
    (if (i32.gt_u (local.get $size) (i32.const 64511))
      (then (return (i32.const 0))))
    (i32.const 1025))

  ;; A message shorter than 4 bytes gets the error reply at 0.
  (data (i32.const 0) "\01want a u32")

  (func (export "troupe_receive") (param $kind i32) (param $ptr i32) (param $len i32) (result i64)
    (local $n i64) (local $i i64) (local $sum i64)
    (if (i32.or (i32.ne (local.get $kind) (i32.const 1)) (i32.lt_u (local.get $len) (i32.const 4)))
      (then (return (i64.const 11))))
    (local.set $n (i64.load32_u (local.get $ptr)))
    (block $done
      (loop $next
        (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (local.set $sum (i64.add (local.get $sum) (local.get $i)))
        (br $next)))
    (i32.store8 (i32.const 1024) (i32.const 0))
    (i64.store (i32.const 1025) (local.get $sum))
    (i64.const 0x40000000009))) ;; (1024 << 32) | 9
