;; mem_grow: a guest that grows its memory to the cap and fails, for the
;; tests of what a failed instance leaves behind. A message starting with
;; "g" grows the memory a page at a time until memory.grow refuses, writing
;; every byte of every new page (so all of it is resident), then
;; traps; "s" does the same, then keeps writing to its memory until it is
;; stopped. "h" makes every later troupe_health do what "s" does. "f" only
;; grows the memory to the cap, for measuring a live instance that did. Any
;; other message gets an empty reply.
(module
  (memory (export "memory") 1)

  (func (export "troupe_abi_v1"))

  (func (export "troupe_alloc") (param $size i32) (result i32)
    (if (i32.gt_u (local.get $size) (i32.const 60000))
      (then (return (i32.const 0))))
    (i32.const 1024))

  ;; fill grows the memory to its limit, one page at a time, and writes it.
  (func $fill
    (local $page i32)
    (loop $more
      (local.set $page (memory.grow (i32.const 1)))
      (if (i32.ne (local.get $page) (i32.const -1))
        (then
          (memory.fill (i32.mul (local.get $page) (i32.const 65536)) (i32.const 1) (i32.const 65536))
          (br $more)))))

  ;; scribble writes to the memory until the guest is stopped.
  (func $scribble
    (loop $forever
      (i32.store8 (i32.const 0) (i32.add (i32.load8_u (i32.const 0)) (i32.const 1)))
      (br $forever)))

  (func (export "troupe_receive") (param $kind i32) (param $ptr i32) (param $len i32) (result i64)
    (if (i32.eqz (local.get $len)) (then (return (i64.const 0))))
    (if (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 0x67)) ;; "g"
      (then (call $fill) unreachable))
    (if (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 0x73)) ;; "s"
      (then (call $fill) (call $scribble)))
    (if (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 0x66)) ;; "f"
      (then (call $fill)))
    (if (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 0x68)) ;; "h"
      (then (i32.store8 (i32.const 16) (i32.const 1))))
    (i64.const 0))

  (func (export "troupe_health") (result i32)
    (if (i32.load8_u (i32.const 16))
      (then (call $fill) (call $scribble)))
    (i32.const 0)))
