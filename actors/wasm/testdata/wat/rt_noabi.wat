;; rt_noabi: a valid module that lacks the ABI exports but memory, and
;; mistypes troupe_receive.
(module
  (memory (export "memory") 1)
  (func (export "troupe_receive") (param i32 i32) (result i32) (i32.const 0)))
