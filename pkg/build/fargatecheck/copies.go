package fargatecheck

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/convox/rack/pkg/build/dockerfile"
)

// copyFrom checks a COPY --from of a stage (by name or number) or an image.
func (c *checker) copyFrom(stage, k int, ins dockerfile.Instruction, from string) {
	j := c.f.StageIndex(from, stage)
	if _, err := strconv.Atoi(from); err == nil {
		c.add(NumericFrom, ins, "COPY --from="+from)
		if j >= 0 && c.f.Stages[j].Name != "" {
			c.renames[len(c.found)-1] = rename{s: stage, k: k, name: c.f.Stages[j].Name}
		}
	}
	for _, src := range ins.Sources() {
		if path.Clean("/"+src) == "/" {
			c.add(CopyRoot, ins, "COPY --from="+from+" "+src)
			break
		}
	}
	if ins.Chown() != "" {
		c.add(ChownDirMode, ins, "COPY --chown="+ins.Chown()+" --from="+from)
	}
	system := anySystemPath(ins.Sources())
	if j < 0 {
		c.add(ImageSymlink, ins, "COPY --from="+from)
		if system {
			c.add(SetuidBits, ins, "COPY --from="+from+" of a system path")
			c.add(HardLinks, ins, "COPY --from="+from+" of a system path")
		}
		return
	}
	facts := c.stageFacts(j)
	if system || facts.setuid {
		c.add(SetuidBits, ins, "COPY --from="+from+setuidWhy(system))
	}
	if system || facts.hardLinks {
		c.add(HardLinks, ins, "COPY --from="+from+hardLinkWhy(system))
	}
	if ins.Chown() == "" && !isRoot(facts.user) {
		c.add(StageUserOwner, ins, "COPY --from="+from+" (USER "+facts.user+")")
	}
}

func setuidWhy(system bool) string {
	if system {
		return " of a system path"
	}
	return " (the stage sets setuid or setgid bits)"
}

func hardLinkWhy(system bool) string {
	if system {
		return " of a system path"
	}
	return " (the stage makes hard links)"
}

// systemDirs hold the setuid binaries and hard-linked files of packages.
var systemDirs = []string{"/bin", "/sbin", "/lib", "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/libexec", "/usr/local/bin", "/usr/local/sbin"}

// anySystemPath reports whether a source (in a stage's or image's
// filesystem) is, holds or lies under a system directory.
func anySystemPath(sources []string) bool {
	for _, src := range sources {
		p := path.Clean("/" + literalPrefix(src))
		for _, d := range systemDirs {
			if p == d || strings.HasPrefix(p, d+"/") || p == "/" || strings.HasPrefix(d, p+"/") {
				return true
			}
		}
	}
	return false
}

// literalPrefix is src up to its first wildcard or variable.
func literalPrefix(src string) string {
	if i := strings.IndexAny(src, "*?[$"); i >= 0 {
		return path.Dir(src[:i] + "x")
	}
	return src
}

// facts are what a stage's chain does that a COPY --from of it can show.
type facts struct {
	user      string // the USER in effect at its end, "" for root
	setuid    bool   // it sets setuid or setgid bits
	hardLinks bool   // it makes hard links
}

var (
	setuidChmod = regexp.MustCompile(`\bchmod\b[^;&|\n]*?(\+[rwxXst]*s|\b0?[2-7][0-7]{3}\b)`)
	hardLink    = regexp.MustCompile(`\b(ln|cp)\b([^;&|\n]*)`)
	chmodFlag   = regexp.MustCompile(`^0?[2-7][0-7]{3}$`)
)

// stageFacts reads stage j and the stages it is built on.
func (c *checker) stageFacts(j int) facts {
	var out facts
	for _, i := range c.f.Chain(j) {
		for _, ins := range c.f.Stages[i].Instructions {
			switch ins.Command {
			case "user":
				if len(ins.Args) > 0 {
					out.user = ins.Args[0]
				}
			case "run":
				text := ins.Original
				for _, h := range ins.Heredocs {
					text += "\n" + h.Content
				}
				out.setuid = out.setuid || setuidChmod.MatchString(text)
				out.hardLinks = out.hardLinks || makesHardLinks(text)
			case "copy", "add":
				if mode, ok := ins.Flag("chmod"); ok && chmodFlag.MatchString(mode) {
					out.setuid = true
				}
			}
		}
	}
	return out
}

// makesHardLinks reports an `ln` without -s, or a `cp -l`, in a RUN.
func makesHardLinks(text string) bool {
	for _, m := range hardLink.FindAllStringSubmatch(text, -1) {
		symbolic, link := false, false
		for _, w := range strings.Fields(m[2]) {
			if w == "--symbolic" || (strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "--") && strings.Contains(w, "s")) {
				symbolic = true
			}
			if w == "--link" || (strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "--") && strings.Contains(w, "l")) {
				link = true
			}
		}
		if (m[1] == "ln" && !symbolic) || (m[1] == "cp" && link) {
			return true
		}
	}
	return false
}

// isRoot reports whether a USER value is root (or unset).
func isRoot(user string) bool {
	name, _, _ := strings.Cut(user, ":")
	return name == "" || name == "root" || name == "0"
}

// maxWalk bounds the files one source's hard-link walk visits.
const maxWalk = 20000

// copyContext checks a COPY or ADD from the build context.
func (c *checker) copyContext(ins dockerfile.Instruction, word string) {
	inodes := map[uint64]bool{}
	dir, links := false, false
	for _, src := range ins.Sources() {
		if strings.Contains(src, "://") || strings.HasPrefix(src, "git@") || strings.Contains(src, "$") {
			continue
		}
		rel := filepath.Clean("/" + src)[1:]
		if link := symlinkOnPath(c.in.Context, rel); link != "" {
			c.add(SymlinkSource, ins, word+" "+src+" ("+link+" is a symlink)")
			continue
		}
		matches, _ := filepath.Glob(filepath.Join(c.in.Context, rel))
		for _, m := range matches {
			if link := symlinkOnPath(c.in.Context, relTo(c.in.Context, m)); link != "" {
				c.add(SymlinkSource, ins, word+" "+src+" ("+link+" is a symlink)")
				break
			}
			if st, err := os.Lstat(m); err == nil && st.IsDir() {
				dir = true
			}
			links = links || hardLinked(m, inodes)
		}
	}
	if ins.Chown() != "" && dir {
		c.add(ChownDirMode, ins, word+" --chown="+ins.Chown()+" of a directory")
	}
	if links {
		c.add(HardLinks, ins, word+" of hard-linked files")
	}
}

func relTo(base, p string) string {
	rel, err := filepath.Rel(base, p)
	if err != nil {
		return p
	}
	return rel
}

// symlinkOnPath is the first path (relative to dir) on the way to rel that
// is a symlink, "" when none is; a part that does not exist ends the walk.
func symlinkOnPath(dir, rel string) string {
	if rel == "" || rel == "." {
		return ""
	}
	cur := dir
	parts := strings.Split(filepath.ToSlash(rel), "/")
	for i, part := range parts {
		if strings.ContainsAny(part, "*?[") {
			return "" // the glob's matches are checked one by one
		}
		cur = filepath.Join(cur, part)
		st, err := os.Lstat(cur)
		if err != nil {
			return ""
		}
		if st.Mode()&os.ModeSymlink != 0 {
			return strings.Join(parts[:i+1], "/")
		}
	}
	return ""
}

// hardLinked reports whether p, or a file under it, shares its inode with
// a file already seen in this copy (docker keeps such links, kaniko not).
func hardLinked(p string, inodes map[uint64]bool) bool {
	found, n := false, 0
	errStop := errors.New("stop")
	_ = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if n++; n > maxWalk {
			return errStop
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		ino, ok := linkedInode(info)
		if !ok {
			return nil
		}
		if inodes[ino] {
			found = true
			return errStop
		}
		inodes[ino] = true
		return nil
	})
	return found
}
