package main

import (
	"flag"
	"reflect"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

var base = map[string]string{"BUILD_APP": "myapp", "BUILD_ID": "B1", "BUILD_URL": "object://myapp/tmp/src.tgz", "BUILD_PUSH": "127.0.0.1:5000/myapp"}

func TestParseEnvAndFlags(t *testing.T) {
	e := map[string]string{"BUILD_CACHE": "Yes", "BUILD_CACHE_REPO": "r/c", "BUILD_CACHE_TTL": "30", "BUILD_GENERATION": "1", "BUILD_METHOD": "fargate", "BUILD_DEVELOPMENT": "true", "KANIKO_EXECUTOR": "/k/e"}
	for k, v := range base {
		e[k] = v
	}
	o, err := parse([]string{"-cache=false", "-build-args", "A=1", "-build-args", "B=2", "-app", "other"}, env(e))
	if err != nil {
		t.Fatal(err)
	}
	if o.App != "other" || !o.NoCache || !o.Cache || o.Generation != 1 || o.Method != "fargate" || !o.Development || o.CacheRepo != "r/c" || o.CacheTTL != "30" || o.Engine.KanikoExecutor != "/k/e" {
		t.Errorf("options = %+v", o)
	}
	if !reflect.DeepEqual(o.BuildArgs, []string{"A=1", "B=2"}) {
		t.Errorf("build args = %q", o.BuildArgs)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, map[string]string{}, "missing required: app, id, push, url"},
		{[]string{"-nope"}, base, "flag provided but not defined: -nope"},
		{[]string{"-cache=maybe"}, base, "cache must be true or false"},
		{[]string{"-generation", "3"}, base, "generation must be 1 or 2"},
		{[]string{"-method", "lambda"}, base, "method must be ec2 or fargate"},
		{[]string{"-cache-ttl", "soon"}, base, "cache ttl"},
		{[]string{"extra"}, base, "unexpected argument"},
	} {
		_, err := parse(tc.args, env(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("parse(%q) = %v, want one line with %q", tc.args, err, tc.want)
		}
	}
	if _, err := parse([]string{"-h"}, env(base)); err != flag.ErrHelp {
		t.Errorf("-h: %v", err)
	}
}
