package store

import "errors"

// ErrPermanent marks a driver error that no retry can mend: a record that
// does not decode, a key that holds the wrong type. The runtime fails the run
// (or dead-letters the queue entry) that met it, with the error as the
// reason, instead of handing the task back to be tried again forever; other
// runs and partitions go on. Wrap it with Permanent and test it with
// IsPermanent (errors.Is also works).
var ErrPermanent = errors.New("permanent store error")

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() []error {
	return []error{p.err, ErrPermanent}
}

// Permanent wraps err so that IsPermanent reports true for it; its message
// is err's own. A nil err stays nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err, or an error it wraps, was marked with
// Permanent.
func IsPermanent(err error) bool { return errors.Is(err, ErrPermanent) }
