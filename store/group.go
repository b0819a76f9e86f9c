package store

import "strconv"

// ChildToken is the id of a group's child token. It is deterministic, so a
// transition computed twice names the same tokens, and every driver and the
// runtime agree on it.
func ChildToken(group string, slot int) string {
	return group + "." + strconv.Itoa(slot)
}

// ChildFrame is the frame a Map child runs in.
func ChildFrame(base string, slot int) string {
	return base + "[" + strconv.Itoa(slot) + "]"
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
