package cachepolicy

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/convox/rack/pkg/structs"
)

// Where a build's cached steps came from; the build summary's cache-source.
const (
	// SourceApp is the app's own ref for the service: {app}.{service}.buildcache.
	SourceApp = structs.CacheSourceApp
	// SourceShared is a rack-wide ref named by the content of a dependency
	// prefix, _shared.{key}.buildcache: any app with that prefix reads and writes it.
	SourceShared = structs.CacheSourceShared
	// SourceLegacy is the rack-wide {service}.buildcache ref of racks before
	// per-app refs; read (never written) until the app's own ref exists.
	SourceLegacy = structs.CacheSourceLegacy
	// SourceLayers is kaniko's cache: layers keyed by content, shared rack-wide.
	SourceLayers = structs.CacheSourceLayers
)

// maxTag is the longest tag a registry accepts (ECR and the distribution spec).
const maxTag = 128

// tagSuffix ends every ec2 cache tag.
const tagSuffix = ".buildcache"

// Ref is one registry cache tag in the cache repository and what it holds.
type Ref struct {
	Tag    string
	Source string
}

// Refs are the cache refs of one build on the ec2 method.
type Refs struct {
	// From are read, in order: the app's own refs, shared, then legacy.
	From []Ref
	// To are written: the app's own refs and the shared refs.
	To []Ref
}

// Source is where the build's cached steps are credited to: the first ref
// it read, in the order own, shared, legacy ("" when it read none).
func (r Refs) Source() string {
	if len(r.From) == 0 {
		return ""
	}
	return r.From[0].Source
}

// AppTag is the tag of an app's own cache for one service. It is
// {app}.{service}.buildcache when that is a valid tag; a name too long or
// with characters a tag cannot hold gets a stable short form: its valid
// characters cut to fit, then a hash of the whole name. A leading underscore
// (no app name has one) also gets the short form, so no app tag is a shared tag.
func AppTag(app, service string) string {
	name := app + "." + service
	if strings.HasPrefix(name, "_") {
		return shortTag(name)
	}
	return tagFor(name)
}

// SharedTag is the tag of the rack-wide cache of one dependency-prefix key.
// The leading underscore keeps it apart from app tags: app names cannot start with one.
func SharedTag(key string) string {
	return tagFor("_shared." + key)
}

// LegacyTag is the pre-upgrade rack-wide tag of a service ("" if no valid tag).
func LegacyTag(service string) string {
	t := service + tagSuffix
	if !validTag(t) {
		return ""
	}
	return t
}

// tagFor is name + ".buildcache", or the short form when that is no valid tag.
func tagFor(name string) string {
	if t := name + tagSuffix; validTag(t) {
		return t
	}
	return shortTag(name)
}

// shortTag is the stable short form of name: its valid characters cut to fit, then a hash.
func shortTag(name string) string {
	sum := sha256.Sum256([]byte(name))
	hash := hex.EncodeToString(sum[:])[:16]
	var clean strings.Builder
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			clean.WriteRune(r)
		case (r == '.' || r == '-') && i > 0:
			clean.WriteRune(r)
		default:
			clean.WriteByte('-')
		}
	}
	keep := maxTag - len(tagSuffix) - 1 - len(hash)
	prefix := clean.String()
	if len(prefix) > keep {
		prefix = prefix[:keep]
	}
	if prefix == "" || !isWordByte(prefix[0]) {
		prefix = "_" + strings.TrimLeft(prefix, ".-")
		if len(prefix) > keep {
			prefix = prefix[:keep]
		}
	}
	return prefix + "-" + hash + tagSuffix
}

// validTag follows the tag grammar: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
func validTag(t string) bool {
	if t == "" || len(t) > maxTag || !isWordByte(t[0]) {
		return false
	}
	for i := 1; i < len(t); i++ {
		if c := t[i]; !isWordByte(c) && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// PlanRefs picks the refs of one build shared by services. It writes each
// service's own tag and the shared keys' tags not written yet. It reads the
// app's own tags that exist (exists nil: all of them); only while none does,
// the first build of the app, the shared tags and the services' legacy
// tags that exist: BuildKit looks a step's cached children up in the import
// its parent matched, so an app reading its own and a shared ref together
// can miss its own later steps.
func PlanRefs(app string, services, sharedKeys []string, exists func(tag string) bool) Refs {
	var r Refs
	has := func(tag string) bool { return exists == nil || exists(tag) }
	seen := map[string]bool{}
	add := func(list *[]Ref, tag, source string) {
		if tag == "" || seen[tag] {
			return
		}
		seen[tag] = true
		*list = append(*list, Ref{Tag: tag, Source: source})
	}
	for _, s := range services {
		if own := AppTag(app, s); has(own) {
			add(&r.From, own, SourceApp)
		}
	}
	if len(r.From) == 0 {
		for _, k := range sharedKeys {
			if t := SharedTag(k); has(t) {
				add(&r.From, t, SourceShared)
			}
		}
		for _, s := range services {
			if t := LegacyTag(s); t != "" && has(t) {
				add(&r.From, t, SourceLegacy)
			}
		}
	}
	seen = map[string]bool{}
	for _, s := range services {
		add(&r.To, AppTag(app, s), SourceApp)
	}
	for _, k := range sharedKeys {
		// A shared key names its dependency prefix by content: the first
		// build to write it has written what every later one would.
		if t := SharedTag(k); exists == nil || !exists(t) {
			add(&r.To, t, SourceShared)
		}
	}
	return r
}
