package main

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"
)

const completionExamples = `  source <(shadowtest completion bash)                  # in ~/.bashrc
  shadowtest completion zsh > "${fpath[1]}/_shadowtest"  # then restart zsh
  shadowtest completion fish > ~/.config/fish/completions/shadowtest.fish`

// completionCommand prints a shell completion script for bash, zsh or
// fish. The scripts are generated from the commands and their flag sets,
// so they complete exactly what the binary accepts.
func completionCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("completion", "bash|zsh|fish", completionExamples, stdout, stderr)
	positional, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(positional) != 1 {
		fmt.Fprintln(stderr, "shadowtest completion: want one shell: bash, zsh or fish, e.g. source <(shadowtest completion bash)")
		return exitInvalid
	}
	cmds := completionModel()
	switch positional[0] {
	case "bash":
		writeBash(stdout, cmds)
	case "zsh":
		writeZsh(stdout, cmds)
	case "fish":
		writeFish(stdout, cmds)
	default:
		msg := fmt.Sprintf("shadowtest completion: unknown shell %q: want bash, zsh or fish", positional[0])
		if s := suggest(positional[0], []string{"bash", "zsh", "fish"}); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		fmt.Fprintln(stderr, msg)
		return exitInvalid
	}
	return exitPass
}

// completionFlag is one flag as the completion scripts know it.
type completionFlag struct {
	name, help string // name with its dashes: --junit, -t
	takesArg   bool
}

// completionCmd is one command as the completion scripts know it.
type completionCmd struct {
	name, summary string
	subcommands   []string // words expected right after the command
	flags         []completionFlag
}

// subcommands are the words some commands expect first; the flags of
// traffic are those of traffic convert.
var subcommands = map[string][]string{
	"traffic":    {"convert"},
	"schema":     {"reference", "results", "vendor"},
	"completion": {"bash", "zsh", "fish"},
}

// helpFlagLine matches a flag line of printFlags' output.
var helpFlagLine = regexp.MustCompile(`^  (--?[A-Za-z0-9][A-Za-z0-9_.-]*)( .+)?$`)

// completionModel reads every command's flags from its own --help, which
// only parses the flags and prints them.
func completionModel() []completionCmd {
	var out []completionCmd
	for _, c := range commands() {
		cc := completionCmd{name: c.name, summary: c.summary, subcommands: subcommands[c.name]}
		helpArgs := []string{"--help"}
		if c.name == "traffic" {
			helpArgs = []string{"convert", "--help"}
		}
		var help bytes.Buffer
		c.run(helpArgs, &help, io.Discard)
		lines := strings.Split(help.String(), "\n")
		for i, line := range lines {
			m := helpFlagLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			f := completionFlag{name: m[1], takesArg: m[2] != ""}
			if i+1 < len(lines) {
				f.help = firstClause(strings.TrimSpace(lines[i+1]))
			}
			cc.flags = append(cc.flags, f)
		}
		cc.flags = append(cc.flags, completionFlag{name: "--help", help: "show the flags and examples"}, completionFlag{name: "--no-color", help: "no colours"})
		out = append(out, cc)
	}
	return out
}

// firstClause shortens a flag's usage for a completion menu.
func firstClause(s string) string {
	for _, sep := range []string{"; ", " (", ": "} {
		if i := strings.Index(s, sep); i > 0 {
			s = s[:i]
		}
	}
	return s
}

func writeBash(w io.Writer, cmds []completionCmd) {
	var names []string
	for _, c := range cmds {
		names = append(names, c.name)
	}
	fmt.Fprintf(w, `# bash completion for shadowtest: source <(shadowtest completion bash)
_shadowtest() {
    local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]} flags="" subs=""
    COMPREPLY=()
    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W %q -- "$cur"))
        return 0
    fi
    case $cmd in
`, strings.Join(names, " ")+" --help --version --no-color")
	for _, c := range cmds {
		var flags []string
		for _, f := range c.flags {
			flags = append(flags, f.name)
		}
		fmt.Fprintf(w, "        %s) flags=%q; subs=%q ;;\n", c.name, strings.Join(flags, " "), strings.Join(c.subcommands, " "))
	}
	fmt.Fprint(w, `    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    elif [[ $COMP_CWORD -eq 2 && -n $subs ]]; then
        COMPREPLY=($(compgen -W "$subs" -- "$cur"))
    fi
    return 0
}
complete -o default -F _shadowtest shadowtest
`)
}

// zshItem quotes "name:description" for _describe: a colon in the name
// is escaped, the first plain colon separates the description.
func zshItem(name, description string) string {
	s := strings.ReplaceAll(name, ":", `\:`) + ":" + description
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func writeZsh(w io.Writer, cmds []completionCmd) {
	fmt.Fprint(w, `#compdef shadowtest
# zsh completion for shadowtest: shadowtest completion zsh > "${fpath[1]}/_shadowtest"
_shadowtest() {
    local -a commands flags subs
    commands=(
`)
	for _, c := range cmds {
		fmt.Fprintf(w, "        %s\n", zshItem(c.name, c.summary))
	}
	fmt.Fprint(w, `    )
    if (( CURRENT == 2 )); then
        _describe -t commands 'shadowtest command' commands
        return
    fi
    case $words[2] in
`)
	for _, c := range cmds {
		var flags []string
		for _, f := range c.flags {
			flags = append(flags, zshItem(f.name, f.help))
		}
		fmt.Fprintf(w, "        %s) flags=(%s); subs=(%s) ;;\n", c.name, strings.Join(flags, " "), strings.Join(c.subcommands, " "))
	}
	fmt.Fprint(w, `    esac
    if [[ $PREFIX == -* ]]; then
        _describe -t flags 'flag' flags
    elif (( CURRENT == 3 && ${#subs} > 0 )); then
        compadd -a subs
    else
        _files
    fi
}
if [[ "${funcstack[1]}" == _shadowtest ]]; then
    _shadowtest "$@"
else
    compdef _shadowtest shadowtest
fi
`)
}

// fishQuote quotes s for fish.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}

func writeFish(w io.Writer, cmds []completionCmd) {
	fmt.Fprintln(w, "# fish completion for shadowtest: shadowtest completion fish > ~/.config/fish/completions/shadowtest.fish")
	fmt.Fprintln(w, "complete -c shadowtest -n __fish_use_subcommand -f -l help -d 'show the commands'")
	fmt.Fprintln(w, "complete -c shadowtest -n __fish_use_subcommand -f -l version -d 'print the version'")
	for _, c := range cmds {
		fmt.Fprintf(w, "complete -c shadowtest -n __fish_use_subcommand -f -a %s -d %s\n", c.name, fishQuote(c.summary))
	}
	for _, c := range cmds {
		cond := fishQuote("__fish_seen_subcommand_from " + c.name)
		for _, s := range c.subcommands {
			fmt.Fprintf(w, "complete -c shadowtest -n %s -f -a %s\n", cond, s)
		}
		for _, f := range c.flags {
			option := "-l " + strings.TrimPrefix(f.name, "--")
			if !strings.HasPrefix(f.name, "--") {
				option = "-s " + strings.TrimPrefix(f.name, "-")
			}
			if f.takesArg {
				option += " -r"
			}
			fmt.Fprintf(w, "complete -c shadowtest -n %s %s -d %s\n", cond, option, fishQuote(f.help))
		}
	}
}
