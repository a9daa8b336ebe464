;; relay: the cycle test's guest. Every kind-1 message is passed on, as a
;; request, to the actor named "native"; the guest answers with an empty
;; reply whatever the request's outcome. "native" asking the component back
;; closes a request cycle through the component.
(module
  (import "troupe" "request" (func $request (param i32 i32 i32 i32 i32) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 16) "native")

  (func (export "troupe_abi_v1"))

  (func (export "troupe_alloc") (param $size i32) (result i32)
    (if (i32.gt_u (local.get $size) (i32.const 60000)) (then (return (i32.const 0))))
    (i32.const 1025))

  (func (export "troupe_receive") (param $kind i32) (param $ptr i32) (param $len i32) (result i64)
    (drop (call $request (i32.const 16) (i32.const 6) (local.get $ptr) (local.get $len) (i32.const 0)))
    (i32.store8 (i32.const 1024) (i32.const 0))
    (i64.or (i64.shl (i64.const 1024) (i64.const 32)) (i64.const 1))))
