package value_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/value"
)

// FuzzUnmarshal: whatever a store hands back, decoding never panics, and
// a value that decodes encodes again to the same value.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{`null`, `{"$duration":"1s"}`, `{"$time":"2024-02-29T12:00:00+05:30"}`,
		`{"$map":{"$time":"x"}}`, `[1, 2.5, 9007199254740993, "x", {"a": [true]}]`, `1e400`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := value.Unmarshal(data)
		if err != nil {
			return
		}
		c, err := value.Canonical(v)
		require.NoError(t, err)
		back, err := value.RoundTrip(c)
		require.NoError(t, err)
		require.Equal(t, c, back)
	})
}
