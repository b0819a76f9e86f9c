package store

import "strconv"

// ChildToken is the id of a group's child token. It is deterministic, so a
// transition computed twice names the same tokens, and every driver and the
// runtime agree on it.
func ChildToken(group string, slot int) string {
	// One allocation: a fan-out builds thousands of these at once.
	var buf [64]byte
	b := append(buf[:0], group...)
	b = append(b, '.')
	return string(strconv.AppendInt(b, int64(slot), 10))
}

// ChildFrame is the frame a Map child runs in.
func ChildFrame(base string, slot int) string {
	var buf [64]byte
	b := append(buf[:0], base...)
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(slot), 10)
	return string(append(b, ']'))
}

// ChildTask builds the Resume task that starts child slot of a group.
func ChildTask(run, hash string, g *Group, slot int) *Task {
	t := &Task{Run: run, Hash: hash, Kind: Resume, Token: ChildToken(g.ID, slot), Group: g.ID, Slot: int32(slot), Frame: g.Frame}
	if len(g.ChildPCs) > 0 {
		t.PC = g.ChildPCs[slot]
	} else {
		t.PC = g.BodyPC
		t.Frame = ChildFrame(g.FrameBase, slot)
	}
	return t
}
