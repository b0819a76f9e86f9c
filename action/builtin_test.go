package action

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNoop(t *testing.T) {
	out, err := invoke(t, context.Background(), Noop(), nil)
	require.NoError(t, err)
	require.Nil(t, out)
	noop := Noop()
	_, err = noop.Schema.Decode(map[string]any{"x": 1})
	require.Error(t, err)
}

func TestLog(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := Log()
	for _, level := range []string{"", "debug", "warn", "error"} {
		buf.Reset()
		params := map[string]any{"msg": "hello " + level}
		if level != "" {
			params["level"] = level
		}
		decoded, err := a.Schema.Decode(params)
		require.NoError(t, err)
		out, err := a.Run(context.Background(), &Call{Params: decoded, Logger: logger, NodeID: "greet"})
		require.NoError(t, err)
		require.Nil(t, out)

		var line map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
		want := map[string]string{"": "INFO", "debug": "DEBUG", "warn": "WARN", "error": "ERROR"}[level]
		require.Equal(t, want, line["level"])
		require.Equal(t, "hello "+level, line["msg"])
		require.Equal(t, "greet", line["node"])
	}

	f, _ := a.Schema.Field("level")
	require.EqualError(t, f.CheckValue("loud"), `must be one of debug, info, warn, error, got "loud"`)
	_, err := a.Schema.Decode(map[string]any{})
	require.EqualError(t, err, "msg: missing required param")
}

func TestLogWithoutLogger(t *testing.T) {
	_, err := invoke(t, context.Background(), Log(), map[string]any{"msg": "to the default logger"})
	require.NoError(t, err)
}

func TestSet(t *testing.T) {
	in := map[string]any{"sku": "A-1", "cost": 12.0, "tags": []any{"x"}}
	out, err := invoke(t, context.Background(), Set(), in)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"sku": "A-1", "cost": 12, "tags": []any{"x"}}, out)

	out, err = Set().Run(context.Background(), &Call{})
	require.NoError(t, err)
	require.Equal(t, map[string]any{}, out)
}

func TestFail(t *testing.T) {
	_, err := invoke(t, context.Background(), Fail(), map[string]any{"message": "card declined"})
	require.EqualError(t, err, "card declined")
	fail := Fail()
	_, err = fail.Schema.Decode(nil)
	require.EqualError(t, err, "message: missing required param")
}

func TestSleep(t *testing.T) {
	start := time.Now()
	out, err := invoke(t, context.Background(), Sleep(), map[string]any{"duration": "30ms"})
	require.NoError(t, err)
	require.Nil(t, out)
	require.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)

	sleep := Sleep()
	f, _ := sleep.Schema.Field("duration")
	require.EqualError(t, f.CheckValue("soon"), `must be a duration like "200ms", got "soon"`)
}

func TestSleepCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	_, err := invoke(t, ctx, Sleep(), map[string]any{"duration": "10s"})
	require.Less(t, time.Since(start), 2*time.Second)
	require.ErrorIs(t, err, context.Canceled)
	require.EqualError(t, err, "sleep 10s: cancelled")
}

func TestSleepTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := invoke(t, ctx, Sleep(), map[string]any{"duration": "10s"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.EqualError(t, err, "sleep 10s: timed out", "the word 'time' tells a user the node's timeout fired")
}

func TestSleepCancelCause(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("run cancelled by user")
	cancel(stop)
	_, err := invoke(t, ctx, Sleep(), map[string]any{"duration": "10s"})
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, stop)
	require.EqualError(t, err, "sleep 10s: cancelled: run cancelled by user")
}

func TestSleepRawParams(t *testing.T) {
	// A host calling Run without decoding still gets the duration it wrote.
	start := time.Now()
	_, err := Sleep().Run(context.Background(), &Call{Params: map[string]any{"duration": "20ms"}})
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)

	_, err = Sleep().Run(context.Background(), &Call{Params: map[string]any{"duration": "soon"}})
	require.EqualError(t, err, `duration: must be a duration like "200ms", got "soon"`)
}
