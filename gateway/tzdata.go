package gateway

// The school clock must work on hosts without a zoneinfo database.
import _ "time/tzdata"
