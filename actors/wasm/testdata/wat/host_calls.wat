;; host_calls: one pass-through export per troupe host function, so tests
;; drive every host call from Go with arguments of their choosing, pointers
;; into the exported memory included. Used by the host_*_test.go files.
(module
  (import "troupe" "result_read" (func $result_read (param i32 i32) (result i64)))
  (import "troupe" "send" (func $send (param i32 i32 i32 i32) (result i64)))
  (import "troupe" "request" (func $request (param i32 i32 i32 i32 i32) (result i64)))
  (import "troupe" "publish" (func $publish (param i32 i32 i32 i32) (result i64)))
  (import "troupe" "subscribe" (func $subscribe (param i32 i32) (result i64)))
  (import "troupe" "log" (func $log (param i32 i32 i32) (result i64)))
  (import "troupe" "kv_get" (func $kv_get (param i32 i32 i32 i32) (result i64)))
  (import "troupe" "kv_put" (func $kv_put (param i32 i32 i32 i32 i32 i32) (result i64)))
  (import "troupe" "kv_delete" (func $kv_delete (param i32 i32 i32 i32) (result i64)))
  (import "troupe" "http_fetch" (func $http_fetch (param i32 i32) (result i64)))
  (import "troupe" "now" (func $now (result i64)))
  (import "troupe" "random" (func $random (param i32 i32) (result i64)))
  (import "troupe" "self" (func $self (result i64)))
  ;; two pages: 128 KiB, enough for oversize payloads against small limits
  (memory (export "memory") 2)

  (func (export "result_read") (param i32 i32) (result i64)
    (call $result_read (local.get 0) (local.get 1)))
  (func (export "send") (param i32 i32 i32 i32) (result i64)
    (call $send (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "request") (param i32 i32 i32 i32 i32) (result i64)
    (call $request (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4)))
  (func (export "publish") (param i32 i32 i32 i32) (result i64)
    (call $publish (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "subscribe") (param i32 i32) (result i64)
    (call $subscribe (local.get 0) (local.get 1)))
  (func (export "log") (param i32 i32 i32) (result i64)
    (call $log (local.get 0) (local.get 1) (local.get 2)))
  (func (export "kv_get") (param i32 i32 i32 i32) (result i64)
    (call $kv_get (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "kv_put") (param i32 i32 i32 i32 i32 i32) (result i64)
    (call $kv_put (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5)))
  (func (export "kv_delete") (param i32 i32 i32 i32) (result i64)
    (call $kv_delete (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "http_fetch") (param i32 i32) (result i64)
    (call $http_fetch (local.get 0) (local.get 1)))
  (func (export "now") (result i64) (call $now))
  (func (export "random") (param i32 i32) (result i64)
    (call $random (local.get 0) (local.get 1)))
  (func (export "self") (result i64) (call $self))

  ;; now_loop calls now n times, so a benchmark measures the host call
  ;; rather than the Go-to-guest entry.
  (func (export "now_loop") (param $n i32) (result i64)
    (local $t i64)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $t (call $now))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $t))
  ;; kv_get_loop calls kv_get n times with the same arguments.
  (func (export "kv_get_loop") (param i32 i32 i32 i32) (param $n i32) (result i64)
    (local $r i64)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $r (call $kv_get (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $r))
)
