package backend

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
)

// EnvVar is the environment variable that names the backend, as GoMLX defines it.
const EnvVar = backends.ConfigEnvVar

// Choice describes which backend was chosen and why.
type Choice struct {
	Name   string // "go" or "xla"
	Config string // the configuration after the colon, possibly empty
	Reason string // why this backend was chosen
}

// String formats the choice as "name:config".
func (c Choice) String() string {
	if c.Config == "" {
		return c.Name
	}
	return c.Name + ":" + c.Config
}

// pureGoDefaults are the options given to the pure-Go backend when the user set none of the
// parallelism options: unlimited parallelism avoids the bounded pool's deadlock on 2 cores.
const pureGoDefaults = "parallelism=-1"

// pluginFinder returns the installed PJRT plugins by name -> path. It is replaced by the no-XLA
// build and by tests.
var pluginFinder = findPlugins

// Choose decides which backend to use from the environment, without creating it.
func Choose() (Choice, error) {
	if value, ok := os.LookupEnv(EnvVar); ok && strings.TrimSpace(value) != "" {
		return parseEnv(value)
	}
	plugins := pluginFinder()
	for _, name := range []string{"cuda", "cpu"} {
		if path, ok := plugins[name]; ok {
			return Choice{Name: "xla", Config: name, Reason: fmt.Sprintf("PJRT plugin %q found at %s", name, path)}, nil
		}
	}
	return Choice{Name: "go", Config: pureGoDefaults,
		Reason: "no PJRT plugin installed (set " + EnvVar + "=xla:/path/to/plugin.so to use XLA)"}, nil
}

func parseEnv(value string) (Choice, error) {
	name, config, _ := strings.Cut(strings.TrimSpace(value), ":")
	switch name {
	case "go", "simplego":
		if config == "" {
			config = pureGoDefaults
		}
		return Choice{Name: "go", Config: config, Reason: EnvVar + "=" + value}, nil
	case "xla", "stablehlo", "hlo", "shlo", "pjrt":
		if config == "" {
			return Choice{}, fmt.Errorf("%s=%q: the xla backend needs a plugin, e.g. xla:cuda, xla:cpu or xla:/abs/path/plugin.so", EnvVar, value)
		}
		pluginPath, _, _ := strings.Cut(config, ",")
		if strings.Contains(pluginPath, "/") {
			if !filepath.IsAbs(pluginPath) {
				return Choice{}, fmt.Errorf("%s=%q: plugin path %q must be absolute", EnvVar, value, pluginPath)
			}
			if _, err := os.Stat(pluginPath); err != nil {
				return Choice{}, fmt.Errorf("%s=%q: PJRT plugin file %s does not exist", EnvVar, value, pluginPath)
			}
		} else if _, ok := pluginFinder()[pluginPath]; !ok {
			return Choice{}, fmt.Errorf("%s=%q: no PJRT plugin named %q is installed (give its absolute path instead)", EnvVar, value, pluginPath)
		}
		return Choice{Name: "xla", Config: config, Reason: EnvVar + "=" + value}, nil
	default:
		return Choice{}, fmt.Errorf("%s=%q: unknown backend %q (known: go, xla)", EnvVar, value, name)
	}
}

// Notice is where New writes its one-line notice; tests and quiet tools may replace it.
var Notice io.Writer = os.Stderr

var (
	cacheMu   sync.Mutex
	cached    backends.Backend
	cachedFor Choice
)

// New returns the backend chosen by Choose, creating it once per process (later calls return the
// same backend). It writes one line to Notice naming the backend and why it was chosen. If XLA was
// chosen by plugin discovery (not by the user) and fails to start, it falls back to the pure-Go
// backend and says why.
func New() (backends.Backend, error) {
	choice, err := Choose()
	if err != nil {
		return nil, err
	}
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if cached != nil && cachedFor == choice {
		return cached, nil
	}
	b, err := create(choice)
	if err != nil {
		_, userChose := os.LookupEnv(EnvVar)
		if choice.Name != "xla" || userChose {
			return nil, fmt.Errorf("backend %s: %w", choice, err)
		}
		why := fmt.Sprintf("XLA plugin %q failed to start (%v)", choice.Config, firstLine(err))
		choice = Choice{Name: "go", Config: pureGoDefaults, Reason: why}
		if b, err = create(choice); err != nil {
			return nil, fmt.Errorf("backend %s: %w", choice, err)
		}
	}
	fmt.Fprintf(Notice, "blockrec: backend %s: %s\n", Describe(b), choice.Reason)
	cached, cachedFor = b, choice
	return b, nil
}

// MustNew is New that panics on error.
func MustNew() backends.Backend {
	b, err := New()
	if err != nil {
		panic(err)
	}
	return b
}

func create(c Choice) (backends.Backend, error) {
	if c.Name == "go" {
		return newPureGo(c.Config)
	}
	return newXLA(c.Config)
}

// newPureGo creates the pure-Go backend, silencing the line it prints on stdout about parallelism
// (stdout belongs to the program: `blockrec phases` prints only its result there).
func newPureGo(config string) (b backends.Backend, err error) {
	stdout := os.Stdout
	if devNull, openErr := os.Open(os.DevNull); openErr == nil {
		os.Stdout = devNull
		defer func() { os.Stdout = stdout; _ = devNull.Close() }()
	}
	return simplego.New(config)
}

// Describe names a backend in one line, e.g. "go (pure-Go SimpleGo backend)".
func Describe(b backends.Backend) string {
	if b == nil {
		return "none"
	}
	if IsPureGo(b) {
		return "go (pure-Go SimpleGo backend)"
	}
	return fmt.Sprintf("%s (%s)", b.Name(), b.Description())
}

// IsPureGo tells whether b is the pure-Go backend (slow; size runs for it).
func IsPureGo(b backends.Backend) bool {
	_, ok := b.(*simplego.Backend)
	return ok
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
