;; rt_echo: the runtime tests' guest. Kind 1 echoes the message unless it
;; is one of the commands below; kind 2 answers a fixed HTTP response (or,
;; for a request over 300 bytes, a reply that is not JSON); kind 3 keeps the
;; publication for "lastpub"; "nap" sleeps 100 ms in WASI poll_oneoff. The reply of "version" is replaced by tests to
;; tell module versions apart.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (global $inits (mut i32) (i32.const 0))
  (global $healths (mut i32) (i32.const 0))
  (global $sick (mut i32) (i32.const 0))
  (global $publen (mut i32) (i32.const 0))
  (data (i32.const 16) "loop")
  (data (i32.const 24) "trap")
  (data (i32.const 32) "grow")
  (data (i32.const 40) "recurse")
  (data (i32.const 48) "badptr")
  (data (i32.const 56) "huge")
  (data (i32.const 64) "err:")
  (data (i32.const 72) "sick")
  (data (i32.const 80) "counts")
  (data (i32.const 88) "lastpub")
  (data (i32.const 96) "nap")
  (data (i32.const 104) "version")
  (data (i32.const 128) "\00v1")
  (data (i32.const 256) "\00{\"status\":201,\"header\":{\"X-Guest\":[\"rt\"]},\"body\":\"aGVsbG8=\"}")
  (data (i32.const 320) "\00notjson")
  (data (i32.const 400) "\01unknown kind")
  (data (i32.const 440) "\c4\01\00\00\08\00\00\00")
  (data (i32.const 452) "stopped\n")
  ;; A WASI clock subscription: monotonic, 100 ms from now.
  (data (i32.const 904) "\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\01\00\00\00\00\00\00\00\00\e1\f5\05\00\00\00\00")

  (func (export "troupe_abi_v1"))

  ;; Messages go to 1025, after a status byte at 1024, so an echo is one
  ;; reply without a copy.
  (func (export "troupe_alloc") (param $size i32) (result i32)
    (local $need i32)
    (local.set $need (i32.add (i32.const 1025) (local.get $size)))
    (if (i32.gt_u (local.get $need) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq (memory.grow
              (i32.add (i32.div_u (i32.sub (local.get $need) (i32.mul (memory.size) (i32.const 65536))) (i32.const 65536)) (i32.const 1)))
              (i32.const -1))
          (then (return (i32.const 0))))))
    (i32.const 1025))

  (func $is (param $ptr i32) (param $len i32) (param $cmd i32) (param $n i32) (result i32)
    (local $i i32)
    (if (i32.lt_u (local.get $len) (local.get $n)) (then (return (i32.const 0))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.ne (i32.load8_u (i32.add (local.get $ptr) (local.get $i)))
                    (i32.load8_u (i32.add (local.get $cmd) (local.get $i))))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 1))

  (func $reply (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))

  (func $recurse (param $n i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get $n) (i32.const 1))) (i32.const 1)))

  (func (export "troupe_receive") (param $kind i32) (param $ptr i32) (param $len i32) (result i64)
    (if (i32.eq (local.get $kind) (i32.const 3))
      (then
        (memory.copy (i32.const 512) (local.get $ptr) (local.get $len))
        (global.set $publen (local.get $len))
        (return (i64.const 0))))
    (if (i32.eq (local.get $kind) (i32.const 2))
      (then
        (if (i32.gt_u (local.get $len) (i32.const 300))
          (then (return (call $reply (i32.const 320) (i32.const 8)))))
        (return (call $reply (i32.const 256) (i32.const 61)))))
    (if (i32.ne (local.get $kind) (i32.const 1))
      (then (return (call $reply (i32.const 400) (i32.const 13)))))
    (if (call $is (local.get $ptr) (local.get $len) (i32.const 16) (i32.const 4))
      (then (loop $forever (br $forever))))
    (if (call $is (local.get $ptr) (local.get $len) (i32.const 24) (i32.const 4))
      (then unreachable))
    (if (call $is (local.get $ptr) (local.get $len) (i32.const 32) (i32.const 4))
      (then
        (loop $more
          (br_if $more (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
        unreachable))
    (if (call $is (local.get $ptr) (local.get $len) (i32.const 40) (i32.const 7))
      (then (return (i64.extend_i32_u (call $recurse (i32.const 0))))))
    (if (call $is (local.get $ptr) (local.get $len) (i32.const 48) (i32.const 6))
      (then (return (call $reply (i32.const 0xffffff00) (i32.const 100)))))
    (if (call $is (local.get $ptr) (local.get $len) (i32.const 56) (i32.const 4))
      (then (return (call $reply (i32.const 0) (i32.const 0x200000)))))
    (if (call $is (local.get $ptr) (local.get $len) (i32.const 64) (i32.const 4))
      (then
        (i32.store8 (i32.add (local.get $ptr) (i32.const 3)) (i32.const 1))
        (return (call $reply (i32.add (local.get $ptr) (i32.const 3)) (i32.sub (local.get $len) (i32.const 3))))))
    (if (call $is (local.get $ptr) (local.get $len) (i32.const 72) (i32.const 4))
      (then (global.set $sick (i32.const 1)) (return (i64.const 0))))
    (if (call $is (local.get $ptr) (local.get $len) (i32.const 80) (i32.const 6))
      (then
        (i32.store8 (i32.const 420) (i32.const 0))
        (i32.store (i32.const 421) (global.get $inits))
        (i32.store (i32.const 425) (global.get $healths))
        (return (call $reply (i32.const 420) (i32.const 9)))))
    (if (call $is (local.get $ptr) (local.get $len) (i32.const 88) (i32.const 7))
      (then
        (i32.store8 (i32.const 511) (i32.const 0))
        (return (call $reply (i32.const 511) (i32.add (global.get $publen) (i32.const 1))))))
    (if (call $is (local.get $ptr) (local.get $len) (i32.const 96) (i32.const 3))
      (then
        (drop (call $poll_oneoff (i32.const 904) (i32.const 952) (i32.const 1) (i32.const 984)))
        (return (i64.const 0))))
    (if (call $is (local.get $ptr) (local.get $len) (i32.const 104) (i32.const 7))
      (then (return (call $reply (i32.const 128) (i32.const 3)))))
    (if (i32.eqz (local.get $len)) (then (return (i64.const 0))))
    (i32.store8 (i32.const 1024) (i32.const 0))
    (call $reply (i32.const 1024) (i32.add (local.get $len) (i32.const 1))))

  (func (export "troupe_init") (result i32)
    (global.set $inits (i32.add (global.get $inits) (i32.const 1)))
    (i32.const 0))

  (func (export "troupe_health") (result i32)
    (global.set $healths (i32.add (global.get $healths) (i32.const 1)))
    (global.get $sick))

  (func (export "troupe_stop")
    (drop (call $fd_write (i32.const 1) (i32.const 440) (i32.const 1) (i32.const 448)))))
