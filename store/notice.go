package store

import "strings"

// FinallyToken is the token that runs a run's finally nodes; every token it
// starts (a Fork's or a Map's children) has an id that begins with it and a
// colon (see ChildToken and the runtime's group ids).
const FinallyToken = "finally"

// InFinally reports whether token runs a run's finally nodes: a finishing
// run keeps only these tokens' queued tasks and running actions.
func InFinally(token string) bool { return within(token, FinallyToken) }

// within reports whether token is root or one of the tokens it started,
// whose ids begin with root and a colon.
func within(token, root string) bool {
	return token == root || (len(token) > len(root) && token[len(root)] == ':' && strings.HasPrefix(token, root))
}

// The Ended feed delivers notices of the work a worker must stop, each a
// string: the run's id alone when the run ended (all of its actions),
// FinishingNotice(id) when it started finishing (every action but its
// finally nodes'), and StopNotice(id, token) for each token a transition
// named in Stop (the actions of that token and of the tokens it started).
const (
	finishingSuffix = "\tfinishing"
	stopInfix       = "\tstop\t"
)

// FinishingNotice is the notice of the Ended feed for a run that starts
// finishing.
func FinishingNotice(run string) string { return run + finishingSuffix }

// StopNotice is the notice of the Ended feed for a token of a run whose
// actions are to stop (Transition.Stop).
func StopNotice(run, token string) string { return run + stopInfix + token }

// Notice is a notice of the Ended feed, read.
type Notice struct {
	Run string
	// Finishing: the run started finishing.
	Finishing bool
	// Token: the actions of this token and of the tokens it started stop.
	Token string
}

// Ended reports whether the notice says that the run ended.
func (n Notice) Ended() bool { return !n.Finishing && n.Token == "" }

// Stops reports whether the notice stops the action of a task.
func (n Notice) Stops(t *Task) bool {
	switch {
	case t.Run != n.Run:
		return false
	case n.Token != "":
		return within(t.Token, n.Token)
	case n.Finishing:
		return !InFinally(t.Token)
	}
	return true
}

// ParseNotice reads a notice of the Ended feed.
func ParseNotice(s string) Notice {
	if r, ok := strings.CutSuffix(s, finishingSuffix); ok {
		return Notice{Run: r, Finishing: true}
	}
	if r, tok, ok := strings.Cut(s, stopInfix); ok {
		return Notice{Run: r, Token: tok}
	}
	return Notice{Run: s}
}
