;; A Troupe ABI v1 component (docs/wasm-abi.md) that answers every message
;; (kind 1) with an ok reply carrying the message itself.
;;
;; The reply is built in place, without a copy: troupe_alloc always hands
;; out the buffer at $msg, one byte past $status, so troupe_receive writes
;; the status byte 0 just before the payload the host wrote and returns
;; ($status << 32) | (len + 1). The buffer is reused by every message, which
;; the ABI allows: a reply stays valid only until the next call into the guest.
(module
  (memory (export "memory") 1)

  ;; The error reply for a kind other than 1: status byte 1, then the text.
  (data (i32.const 0) "\01echo: unsupported message kind")
  (global $errLen i32 (i32.const 31))

  (global $status i32 (i32.const 1024))
  (global $msg i32 (i32.const 1025))

  (func (export "troupe_abi_v1"))

  ;; troupe_alloc grows memory until $msg + size fits, and returns 0 (out of
  ;; memory) when it cannot.
  (func (export "troupe_alloc") (param $size i32) (result i32)
    (local $need i32)
    ;; Pages needed for bytes [0, $msg + size), rounded up, in 64-bit
    ;; arithmetic so a huge size cannot wrap around.
    (local.set $need
      (i32.wrap_i64
        (i64.shr_u
          (i64.add
            (i64.add (i64.extend_i32_u (global.get $msg)) (i64.extend_i32_u (local.get $size)))
            (i64.const 65535))
          (i64.const 16))))
    (if (i32.gt_u (local.get $need) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $need) (memory.size))) (i32.const -1))
          (then (return (i32.const 0))))))
    (global.get $msg))

  (func (export "troupe_receive") (param $kind i32) (param $ptr i32) (param $len i32) (result i64)
    (if (i32.ne (local.get $kind) (i32.const 1))
      (then (return (i64.extend_i32_u (global.get $errLen)))))
    (i32.store8 (global.get $status) (i32.const 0))
    (i64.or
      (i64.shl (i64.extend_i32_u (global.get $status)) (i64.const 32))
      (i64.extend_i32_u (i32.add (local.get $len) (i32.const 1)))))
)
