package blueprint

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// Hash returns the hex SHA-256 of the serialized form of bp with its Hash
// field empty, so that sealing does not change the hash. Two Blueprints with
// the same hash run the same way, which lets stores and workers keep them by
// it. It returns "" when bp cannot be encoded (see Encode).
func Hash(bp *Blueprint) string {
	h, _ := hash(bp)
	return h
}

// Seal sets bp.Hash to Hash(bp). It fails when bp cannot be encoded, so a
// Blueprint that could not be stored is never handed out with a hash.
func Seal(bp *Blueprint) error {
	h, err := hash(bp)
	if err != nil {
		return err
	}
	bp.Hash = h
	return nil
}

func hash(bp *Blueprint) (string, error) {
	if bp == nil {
		return "", errors.New("blueprint: hash nil")
	}
	c := *bp
	c.Hash = ""
	data, err := Encode(&c)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}
