package procedures

import (
	"fmt"
	"strings"
)

// argSpec describes the flags of a procedure whose arguments are parsed
// like a command line (Dolt's): flags may stand anywhere, short boolean
// flags combine (-am MSG), a value follows its flag or an '=' sign.
type argSpec struct {
	// names maps every spelling of a flag ("-m", "--message") to its
	// canonical name ("message").
	names map[string]string
	// valued holds the canonical names of the flags that take a value.
	valued map[string]bool
}

// newArgSpec builds a spec from flags written "m,message" (a boolean flag
// -m or --message) or "m,message=" (one that takes a value).
func newArgSpec(flags ...string) argSpec {
	sp := argSpec{names: map[string]string{}, valued: map[string]bool{}}
	for _, f := range flags {
		valued := strings.HasSuffix(f, "=")
		f = strings.TrimSuffix(f, "=")
		spellings := strings.Split(f, ",")
		canon := spellings[len(spellings)-1]
		for _, s := range spellings {
			if len(s) == 1 {
				sp.names["-"+s] = canon
			} else {
				sp.names["--"+s] = canon
			}
		}
		sp.valued[canon] = valued
	}
	return sp
}

// parsedArgs are a procedure's parsed arguments.
type parsedArgs struct {
	flags map[string]string // canonical name → value ("" for a boolean)
	pos   []string
}

func (a parsedArgs) has(name string) bool { _, ok := a.flags[name]; return ok }

func (a parsedArgs) value(name string) string { return a.flags[name] }

func unknownOption(opt string) error {
	return fmt.Errorf("error: unknown option `%s'", strings.TrimLeft(opt, "-"))
}

func (sp argSpec) parse(args []string) (parsedArgs, error) {
	out := parsedArgs{flags: map[string]string{}}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if len(arg) < 2 || arg[0] != '-' || arg == "--" {
			out.pos = append(out.pos, arg)
			continue
		}
		name, val, hasVal := strings.Cut(arg, "=")
		canon, ok := sp.names[name]
		if !ok && !strings.HasPrefix(arg, "--") && len(arg) > 2 {
			// Combined short flags: -am, -Am.
			for j := 1; j < len(arg); j++ {
				c, ok := sp.names["-"+arg[j:j+1]]
				if !ok {
					return out, unknownOption(arg[j : j+1])
				}
				if sp.valued[c] {
					if j != len(arg)-1 || i+1 >= len(args) {
						return out, fmt.Errorf("error: no value for option `%s'", arg[j:j+1])
					}
					i++
					out.flags[c] = args[i]
				} else {
					out.flags[c] = ""
				}
			}
			continue
		}
		if !ok {
			return out, unknownOption(name)
		}
		switch {
		case !sp.valued[canon] && hasVal:
			return out, fmt.Errorf("error: option `%s' takes no value", strings.TrimLeft(name, "-"))
		case !sp.valued[canon]:
			out.flags[canon] = ""
		case hasVal:
			out.flags[canon] = val
		case i+1 < len(args):
			i++
			out.flags[canon] = args[i]
		default:
			return out, fmt.Errorf("error: no value for option `%s'", strings.TrimLeft(name, "-"))
		}
	}
	return out, nil
}
