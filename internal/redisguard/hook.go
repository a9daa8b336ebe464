package redisguard

import (
	"context"

	"github.com/redis/go-redis/v9"
)

var _ redis.Hook = (*Guard)(nil)

// DialHook leaves dialing as it is: a dial happens inside a command, whose
// deadline already bounds it.
func (g *Guard) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook fails the command at once while the guard is open, else runs
// it under the budget and records whether Redis answered.
func (g *Guard) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		return g.guard(ctx, func(ctx context.Context) error { return next(ctx, cmd) }, cmd)
	}
}

// ProcessPipelineHook does the same for a pipeline or transaction, which
// is one round trip: one budget for all its commands.
func (g *Guard) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		return g.guard(ctx, func(ctx context.Context) error { return next(ctx, cmds) }, cmds...)
	}
}

// phase marks a context a guard has seen: the probe's, or one inside a
// guarded command, whose connection set-up (HELLO and the like, which
// go-redis sends through the same hooks) the command's budget and outcome
// already cover.
type phase int

const (
	probing phase = iota + 1
	inside
)

type phaseKey struct{}

// guard runs call under the budget, or fails cmds at once while the guard
// is open (except for the probe's PING).
func (g *Guard) guard(ctx context.Context, call func(context.Context) error, cmds ...redis.Cmder) error {
	p, _ := ctx.Value(phaseKey{}).(phase)
	if p == inside {
		return call(ctx)
	}
	if p != probing && g.open.Load() {
		for _, cmd := range cmds {
			cmd.SetErr(ErrUnavailable)
		}
		return ErrUnavailable
	}
	budget, cancel := context.WithTimeout(context.WithValue(ctx, phaseKey{}, inside), g.timeout)
	err := call(budget)
	cancel()
	if p != probing {
		g.record(ctx, err)
	}
	return err
}
