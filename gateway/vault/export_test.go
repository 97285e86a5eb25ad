package vault

// SetSeals sets the seal count of a term, so tests can reach RotateAt and
// NonceLimit without sealing four billion values.
func SetSeals(k *Keyring, n uint32, count uint64) { k.r.terms[n].seals.Store(count) }
