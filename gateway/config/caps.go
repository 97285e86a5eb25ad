package config

import (
	"reflect"
	"strings"
)

// capPrefix starts the key of every per-vendor cap: schedule.cap_<profile>,
// where <profile> is a vendor profile name (school add --profile).
const capPrefix = "cap_"

// VendorCaps returns the per-vendor caps by vendor profile name, one entry
// per schedule.cap_<name> key (e.g. cap_magister -> "magister"); vendors
// without a key get DefaultCap. The keys are found from the struct tags, so
// a new cap_<name> field is picked up here, in Validate and by serve
// without a list to keep.
func (c ScheduleConfig) VendorCaps() map[string]int {
	caps := map[string]int{}
	rv := reflect.ValueOf(c)
	for i := range rv.NumField() {
		f := rv.Type().Field(i)
		if name, ok := strings.CutPrefix(f.Tag.Get("mapstructure"), capPrefix); ok && f.Type.Kind() == reflect.Int {
			caps[name] = int(rv.Field(i).Int())
		}
	}
	return caps
}
