// Package otlptest provides in-process OTLP collectors for tests: Receiver
// speaks OTLP/HTTP with protobuf bodies, GRPCReceiver speaks OTLP/gRPC. Both
// keep what they receive in memory so a test can assert on exported spans,
// metrics and their resources without a real collector.
package otlptest
