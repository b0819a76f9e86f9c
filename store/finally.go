package store

import "strings"

// FinallyToken is the token that runs a run's finally nodes; every token it
// starts (a Fork's or a Map's children) has an id that begins with it and a
// colon (see ChildToken and the runtime's group ids).
const FinallyToken = "finally"

// InFinally reports whether token runs a run's finally nodes: a finishing
// run keeps only these tokens' queued tasks and running actions.
func InFinally(token string) bool {
	return token == FinallyToken ||
		(len(token) > len(FinallyToken) && token[len(FinallyToken)] == ':' && strings.HasPrefix(token, FinallyToken))
}

// The Ended feed delivers, for every run, notices of the work a worker
// must stop: the run's id alone when the run ended (all of its actions),
// or FinishingNotice(id) when it started finishing (every action but its
// finally nodes').
const finishingSuffix = "\tfinishing"

// FinishingNotice is the notice of the Ended feed for a run that starts
// finishing.
func FinishingNotice(run string) string { return run + finishingSuffix }

// ParseNotice reads a notice of the Ended feed: the run it is about, and
// whether the run started finishing (false: it ended).
func ParseNotice(n string) (run string, finishing bool) {
	if r, ok := strings.CutSuffix(n, finishingSuffix); ok {
		return r, true
	}
	return n, false
}
