package bench

// Setting is one load the benchmark can run at: how many workflows are in
// flight at once, and how many tasks the worker runs at once.
type Setting struct {
	Workflows   int `json:"workflows"`
	Concurrency int `json:"concurrency"`
}

// Trial is one measured setting.
type Trial struct {
	Setting
	TasksPerSec float64 `json:"tasks_per_sec"`
	// Kept says the trial improved on the best so far by more than the
	// tuner's threshold and became the new best.
	Kept bool `json:"kept"`
}

// Tuner searches for the load at which throughput stops growing. It raises
// one dimension at a time by doubling it, starting from the best setting so
// far: first the workflows in flight, then the worker concurrency, then
// the workflows again, and so on. A doubling is kept when it improves
// throughput by more than Threshold (a fraction: 0.05 is 5%); the first one
// that does not ends that dimension's turn. The search ends when a whole
// round over both dimensions kept nothing, or after MaxTrials.
//
// The Tuner only decides: the caller measures. It is a plain state machine
// so that its decisions can be tested with made-up figures.
type Tuner struct {
	// Threshold is the smallest relative gain that counts as better.
	Threshold float64
	// Max bounds each dimension.
	Max Setting
	// MaxTrials bounds the number of settings measured.
	MaxTrials int

	best     Setting
	bestTPS  float64
	measured bool
	dim      int  // 0: workflows, 1: concurrency
	keptAny  bool // something was kept in the current round
	turns    int  // turns taken in the current round
	next     Setting
	done     bool
	trials   []Trial
}

// NewTuner returns a tuner that first measures start.
func NewTuner(start, maxSetting Setting, threshold float64, maxTrials int) *Tuner {
	start.Workflows = max(start.Workflows, 1)
	start.Concurrency = max(start.Concurrency, 1)
	maxSetting.Workflows = max(maxSetting.Workflows, start.Workflows)
	maxSetting.Concurrency = max(maxSetting.Concurrency, start.Concurrency)
	if maxTrials <= 0 {
		maxTrials = 24
	}
	return &Tuner{Threshold: threshold, Max: maxSetting, MaxTrials: maxTrials, best: start, next: start}
}

// Next returns the setting to measure next, or false when the search is
// over (then Best holds the answer).
func (t *Tuner) Next() (Setting, bool) {
	if t.done || len(t.trials) >= t.MaxTrials {
		t.done = true
		return Setting{}, false
	}
	return t.next, true
}

// Report gives the throughput measured at the setting Next returned.
func (t *Tuner) Report(s Setting, tasksPerSec float64) {
	tr := Trial{Setting: s, TasksPerSec: tasksPerSec}
	switch {
	case !t.measured:
		t.measured = true
		t.best, t.bestTPS = s, tasksPerSec
		tr.Kept = true
	case tasksPerSec > t.bestTPS*(1+t.Threshold):
		t.best, t.bestTPS = s, tasksPerSec
		t.keptAny = true
		tr.Kept = true
	default:
		// This dimension has stopped paying: hand over to the other one.
		t.endTurn()
	}
	t.trials = append(t.trials, tr)
	t.plan()
}

// endTurn moves to the other dimension; a round with nothing kept ends the
// search.
func (t *Tuner) endTurn() {
	t.turns++
	if t.turns >= 2 {
		if !t.keptAny {
			t.done = true
			return
		}
		t.turns, t.keptAny = 0, false
	}
	t.dim = 1 - t.dim
}

// plan picks the next setting: the best one with the current dimension
// doubled. A dimension already at its maximum ends its turn at once.
func (t *Tuner) plan() {
	for tries := 0; tries < 4 && !t.done; tries++ {
		n := t.best
		if t.dim == 0 {
			n.Workflows = min(n.Workflows*2, t.Max.Workflows)
		} else {
			n.Concurrency = min(n.Concurrency*2, t.Max.Concurrency)
		}
		if n != t.best && !t.tried(n) {
			t.next = n
			return
		}
		t.endTurn()
	}
	t.done = true
}

func (t *Tuner) tried(s Setting) bool {
	for _, tr := range t.trials {
		if tr.Setting == s {
			return true
		}
	}
	return false
}

// Best returns the best setting measured and its throughput.
func (t *Tuner) Best() (Setting, float64) { return t.best, t.bestTPS }

// Trials returns every setting measured, in order.
func (t *Tuner) Trials() []Trial { return append([]Trial(nil), t.trials...) }
