;; host_fs: opens a path under the first preopened directory (fd 3, the
;; first mount) with WASI path_open, as a guest's file API would, and
;; returns the WASI errno (0 on success). Used by fs_test.go.
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; open(path_ptr, path_len, oflags) -> errno; the new fd lands at 0.
  (func (export "open") (param $ptr i32) (param $len i32) (param $oflags i32) (result i32)
    (call $path_open
      (i32.const 3)        ;; the first preopen
      (i32.const 1)        ;; lookupflags: follow symlinks
      (local.get $ptr) (local.get $len)
      (local.get $oflags)
      (i64.const 2) (i64.const 2) ;; fd_read only
      (i32.const 0)        ;; fdflags
      (i32.const 0)))      ;; where the fd goes
)
