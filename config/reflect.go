package config

import (
	"fmt"
	"reflect"
)

// fillStruct sets every field of *dst tagged `kafka:"name"` from values[name].
// Field types follow the setting types: bool, string, int16, int32, int64,
// float64, []string, and *T for settings whose default is null (nil when
// unset).
func fillStruct(dst any, values map[string]any) {
	rv := reflect.ValueOf(dst).Elem()
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		name := rt.Field(i).Tag.Get("kafka")
		if name == "" {
			continue
		}
		v := values[name]
		f := rv.Field(i)
		if v == nil {
			f.Set(reflect.Zero(f.Type()))
			continue
		}
		val := reflect.ValueOf(v)
		if list, ok := v.([]string); ok {
			val = reflect.ValueOf(append([]string(nil), list...))
		}
		if f.Kind() == reflect.Pointer {
			p := reflect.New(f.Type().Elem())
			p.Elem().Set(val)
			f.Set(p)
			continue
		}
		if !val.Type().AssignableTo(f.Type()) {
			panic(fmt.Sprintf("config: field %s (%s) cannot hold %s (%T)", rt.Field(i).Name, f.Type(), name, v))
		}
		f.Set(val)
	}
}

// structValues returns the tagged fields of *src by setting name.
func structValues(src any) map[string]any {
	rv := reflect.ValueOf(src).Elem()
	rt := rv.Type()
	out := map[string]any{}
	for i := 0; i < rt.NumField(); i++ {
		name := rt.Field(i).Tag.Get("kafka")
		if name == "" {
			continue
		}
		f := rv.Field(i)
		if f.Kind() == reflect.Pointer {
			if f.IsNil() {
				out[name] = nil
				continue
			}
			f = f.Elem()
		}
		out[name] = f.Interface()
	}
	return out
}

// taggedNames lists the `kafka` tags of a struct type.
func taggedNames(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		if name := t.Field(i).Tag.Get("kafka"); name != "" {
			names = append(names, name)
		}
	}
	return names
}
