package redis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"github.com/skript-dev/skript/store"
)

// An idempotency key (store.Run.Key) is kept as ik:HASH, HASH the key's
// SHA-256 (the key may be a secret, and may be long), in the partition the
// hash picks. That is usually not the run's partition (a run's is picked
// by its id, which every reader knows), so CreateRun reserves the key
// before creating the run, in two steps that hold against concurrent
// submits:
//
//  1. SET ik:HASH p:ID NX GET with a TTL of reserveTTL: the first submit
//     reserves the key; another finds the holder's id, and the run it
//     names is returned (store.RunExistsError) whether it is created yet
//     or not. A holder that is gone (its run expired, the key was not
//     trimmed yet) is replaced; a reservation whose creator died before
//     creating its run frees the key after reserveTTL.
//  2. Once the run is created, the value becomes ID with no TTL. The key is
//     deleted when the run leaves the run index, after its retention
//     (index.go): it is held as long as the run is kept, ended or not.

// reserveTTL is how long a reservation lasts before its run is created.
const reserveTTL = time.Minute

var idemScript = loadScript("idem.lua")

// keyHash is the hash naming an idempotency key.
func keyHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// idemKey is the key of an idempotency key's hash.
func (s *Store) idemKey(hash string) string { return s.parts[s.partOf(hash)].prefix + "ik:" + hash }

// reserveKey reserves run.Key for run.ID (step 1 above).
func (s *Store) reserveKey(ctx context.Context, run *store.Run, hash string) error {
	k := s.idemKey(hash)
	mine := "p:" + run.ID
	for range 3 {
		old, err := s.c.Do(ctx, s.c.B().Set().Key(k).Value(mine).Nx().Get().Px(reserveTTL).Build()).ToString()
		if rueidis.IsRedisNil(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("redis store: idempotency key: %w", err)
		}
		holder := strings.TrimPrefix(old, "p:")
		if holder == run.ID {
			return nil // this run's own, from an earlier try
		}
		n, err := s.c.Do(ctx, s.c.B().Exists().Key(s.runKey(holder)).Build()).AsInt64()
		if err != nil {
			return fmt.Errorf("redis store: idempotency key: %w", err)
		}
		if n == 1 || strings.HasPrefix(old, "p:") {
			return &store.RunExistsError{Key: run.Key, ID: holder}
		}
		// The holder's run expired before the key was trimmed: take over.
		ok, err := idemScript.Exec(ctx, s.c, []string{k}, []string{old, mine, strconv.FormatInt(reserveTTL.Milliseconds(), 10)}).AsInt64()
		if err != nil {
			return fmt.Errorf("redis store: idempotency key: %w", err)
		}
		if ok == 1 {
			return nil
		}
	}
	return fmt.Errorf("redis store: idempotency key: changed under us three times")
}

// settleKey ends a reservation: kept without a TTL once the run exists
// (created), or freed.
func (s *Store) settleKey(ctx context.Context, run *store.Run, hash string, created bool) error {
	to := ""
	if created {
		to = run.ID
	}
	err := idemScript.Exec(ctx, s.c, []string{s.idemKey(hash)}, []string{"p:" + run.ID, to, ""}).Error()
	if err != nil {
		return fmt.Errorf("redis store: idempotency key: %w", err)
	}
	return nil
}
