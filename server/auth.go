package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// authenticator checks bearer tokens. It compares SHA-256 digests in
// constant time, so neither a token's bytes nor its length leak through
// the time an answer takes.
type authenticator struct {
	digests [][32]byte
}

func newAuthenticator(tokens []string) *authenticator {
	a := &authenticator{}
	for _, t := range tokens {
		if t != "" {
			a.digests = append(a.digests, sha256.Sum256([]byte(t)))
		}
	}
	return a
}

// check returns who is asking: "token#N" for the Nth token, the client's
// address when the server has no tokens.
func (a *authenticator) check(r *http.Request) (string, error) {
	if len(a.digests) == 0 {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		return "addr:" + host, nil
	}
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", &httpError{status: http.StatusUnauthorized, code: "unauthorized", msg: "want an Authorization: Bearer token"}
	}
	d := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	match := -1
	for i := range a.digests {
		// Every digest is compared, whichever matches, so the time
		// taken does not say which one did.
		if subtle.ConstantTimeCompare(d[:], a.digests[i][:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return "", &httpError{status: http.StatusUnauthorized, code: "unauthorized", msg: "the bearer token is not valid"}
	}
	return fmt.Sprintf("token#%d", match), nil
}

type clientKey struct{}

func withClient(ctx context.Context, who string) context.Context {
	return context.WithValue(ctx, clientKey{}, who)
}

func clientOf(ctx context.Context) string {
	who, _ := ctx.Value(clientKey{}).(string)
	return who
}

// limiter is a token bucket per client for run starts.
type limiter struct {
	rate  float64 // per second; <= 0: no limit
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds the clients remembered; past it, full buckets are
// forgotten (a full bucket is what a new client gets anyway).
const maxBuckets = 10000

func newLimiter(rate float64, burst int, now func() time.Time) *limiter {
	return &limiter{rate: rate, burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// allow takes one start from who's bucket, or says how long to wait.
func (l *limiter) allow(who string) (bool, time.Duration) {
	if l.rate <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[who]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.forgetFull(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[who] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

func (l *limiter) forgetFull(now time.Time) {
	for who, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, who)
		}
	}
}

// limitStart refuses a run start over the client's rate with a 429 and a
// Retry-After.
func (s *Server) limitStart(w http.ResponseWriter, r *http.Request) error {
	ok, wait := s.limiter.allow(clientOf(r.Context()))
	if ok {
		return nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", fmt.Sprint(max(secs, 1)))
	return &httpError{status: http.StatusTooManyRequests, code: "rate_limited",
		msg: fmt.Sprintf("over the limit of %g run starts per second; try again in %s", s.limiter.rate, wait.Round(time.Millisecond))}
}
