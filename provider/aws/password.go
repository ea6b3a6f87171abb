package aws

import (
	"context"
	"sync"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// DefaultPasswordRefresh is how often the rack API reads the password secret
// again: a `rack params set Password=...` takes effect within about this long.
const DefaultPasswordRefresh = 30 * time.Second

// SecretsAPI is the part of the Secrets Manager client the password watch calls.
type SecretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// passwordWatch is the rack password as the stack's secret holds it. ECS puts
// the secret in the API task's environment only when the task starts, and a
// password change updates the secret without replacing the task: so the API
// reads the secret again every interval, and the old password stops working.
type passwordWatch struct {
	mu      sync.RWMutex
	current string
	done    chan struct{}
}

// watchPassword starts with initial (what ECS gave the task) and reads secret
// every interval until ctx ends; a failed read keeps the password it has.
func watchPassword(ctx context.Context, api SecretsAPI, secret, initial string, every time.Duration, logf func(string, ...any)) *passwordWatch {
	w := &passwordWatch{current: initial, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		ticker := time.NewTicker(every)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
			out, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: sdkaws.String(secret)})
			if err != nil {
				if ctx.Err() == nil {
					logf("at=password.refresh error=%q", err)
				}
				continue
			}
			if v := sdkaws.ToString(out.SecretString); v != "" {
				w.mu.Lock()
				changed := v != w.current
				w.current = v
				w.mu.Unlock()
				if changed {
					logf("at=password.changed")
				}
			}
		}
	}()
	return w
}

// get is the current password.
func (w *passwordWatch) get() string {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.current
}
