package store_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store"
)

func TestPermanent(t *testing.T) {
	base := errors.New("bad record")
	err := fmt.Errorf("run r1: %w", store.Permanent(base))
	require.True(t, store.IsPermanent(err))
	require.ErrorIs(t, err, base)
	require.Equal(t, "run r1: bad record", err.Error())
	require.False(t, store.IsPermanent(base))
	require.NoError(t, store.Permanent(nil))
}
