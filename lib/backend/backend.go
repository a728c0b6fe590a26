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

	// For XLA, filled in when the backend is created: the plugin's file and its PJRT C API version.
	PluginPath, APIVersion string
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

// pluginVersionReader reads a plugin's PJRT C API version; replaced by the no-XLA build and tests.
var pluginVersionReader = readPluginAPIVersion

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

// ExpectEnvVar names the backend a run must get ("xla" or "go"). When it is set, New fails instead
// of falling back, and fails when the backend it made is another: CI's legs set it so that a test
// run that says it ran on XLA cannot have silently run on the pure-Go backend.
const ExpectEnvVar = "BLOCKREC_EXPECT_BACKEND"

// PJRT C API versions. go-xla v0.1.4 is written against v0.83; PJRT checks the size of every
// argument struct, so plugins of other minor versions load as long as the major version matches.
// The oldest minor version verified here is 0.81 (xla-cpu-pjrt 0.0.1); the newest, 0.115
// (lammps-jax-pjrt-cpu 0.11.2, the one scripts/install.sh installs).
const (
	ClientAPIMajor = 0
	ClientAPIMinor = 83
	OldestAPIMinor = 81
)

var (
	cacheMu   sync.Mutex
	cached    backends.Backend
	cachedFor Choice
)

// New returns the backend chosen by Choose, creating it once per process (later calls return the
// same backend). It writes one line to Notice naming the backend and why it was chosen (in a GoNB
// kernel, once per kernel rather than once per cell). If XLA was chosen by plugin discovery (not by
// the user, nor demanded by $BLOCKREC_EXPECT_BACKEND) and fails to start, it falls back to the
// pure-Go backend and says why. Every error is one line naming the variable, the file and the fault.
func New() (backends.Backend, error) {
	choice, err := Choose()
	if err != nil {
		return nil, err
	}
	expect := strings.TrimSpace(os.Getenv(ExpectEnvVar))
	if expect != "" && expect != "xla" && expect != "go" {
		return nil, fmt.Errorf("%s=%q: want xla or go", ExpectEnvVar, expect)
	}
	cacheMu.Lock()
	defer cacheMu.Unlock()
	key := choice // what Choose said: later calls with the same environment get the same backend
	if cached != nil && cachedFor == key {
		return cached, nil
	}
	b, err := create(&choice)
	if err != nil {
		_, userChose := os.LookupEnv(EnvVar)
		if choice.Name != "xla" || userChose {
			return nil, fmt.Errorf("backend %s: %s", choice, firstLine(err))
		}
		// Discovered, not asked for: try the CPU plugin after a failed CUDA one, then pure Go.
		why := fmt.Sprintf("XLA plugin %q failed to start (%s)", choice.Config, firstLine(err))
		next := Choice{Name: "go", Config: pureGoDefaults, Reason: why}
		if path, ok := pluginFinder()["cpu"]; ok && choice.Config == "cuda" {
			next = Choice{Name: "xla", Config: "cpu", Reason: why + "; PJRT plugin \"cpu\" found at " + path}
		}
		choice = next
		if b, err = create(&choice); err != nil && choice.Name == "xla" {
			why += fmt.Sprintf("; XLA plugin %q failed to start (%s)", choice.Config, firstLine(err))
			choice = Choice{Name: "go", Config: pureGoDefaults, Reason: why}
			b, err = create(&choice)
		}
		if err != nil {
			return nil, fmt.Errorf("backend %s: %s", choice, firstLine(err))
		}
		if expect == "xla" && choice.Name != "xla" {
			return nil, fmt.Errorf("%s=xla but no XLA plugin starts: %s", ExpectEnvVar, why)
		}
	}
	if got := backendKind(b); expect != "" && got != expect {
		return nil, fmt.Errorf("%s=%s but the backend is %s (%s)", ExpectEnvVar, expect, got, choice.Reason)
	}
	sayOnce(fmt.Sprintf("blockrec: backend %s: %s\n", describeChoice(b, choice), choice.Reason))
	cached, cachedFor = b, key
	return b, nil
}

// NewOrExit is New for notebooks and small programs: on error it prints the error as one line on
// stderr and exits with status 1, instead of the stack trace of a panic.
func NewOrExit() backends.Backend {
	b, err := New()
	if err != nil {
		fmt.Fprintf(os.Stderr, "blockrec: %v\n", err)
		os.Exit(1)
	}
	return b
}

// MustNew is New that panics on error. Use it in tests and benchmarks only: programs that read
// $GOMLX_BACKEND from a user use New or NewOrExit.
func MustNew() backends.Backend {
	b, err := New()
	if err != nil {
		panic(err)
	}
	return b
}

// NewPureGo creates a new pure-Go backend (with blockrec's default options), bypassing the choice;
// for comparisons of the two engines.
func NewPureGo() (backends.Backend, error) { return newPureGo(pureGoDefaults) }

// NewXLA creates a new XLA backend on the PJRT plugin at pluginPath (absolute) after checking the
// plugin's API version; for comparisons of the two engines.
func NewXLA(pluginPath string) (backends.Backend, error) {
	c := Choice{Name: "xla", Config: pluginPath}
	return create(&c)
}

// FindPlugin returns the path of the installed PJRT plugin of that name ("cpu", "cuda"), if any.
func FindPlugin(name string) (string, bool) {
	p, ok := pluginFinder()[name]
	return p, ok
}

// sayOnce writes the notice to Notice, except in a GoNB kernel (each cell is a new process there)
// when this kernel already printed the same notice.
func sayOnce(line string) {
	dir := os.Getenv("GONB_TMP_DIR")
	if dir == "" || Notice != io.Writer(os.Stderr) {
		fmt.Fprint(Notice, line)
		return
	}
	marker := filepath.Join(dir, "blockrec-backend-notice")
	if old, err := os.ReadFile(marker); err == nil && string(old) == line {
		return
	}
	fmt.Fprint(Notice, line)
	_ = os.WriteFile(marker, []byte(line), 0o644)
}

// backendKind is "xla" or "go".
func backendKind(b backends.Backend) string {
	if IsPureGo(b) {
		return "go"
	}
	return "xla"
}

func describeChoice(b backends.Backend, c Choice) string {
	if IsPureGo(b) {
		return Describe(b)
	}
	return fmt.Sprintf("xla (PJRT plugin %s, PJRT C API v%s)", c.PluginPath, c.APIVersion)
}

// create makes the backend of c. For XLA it first resolves the plugin's file and checks the PJRT
// C API version it reports (filling c.PluginPath and c.APIVersion), so that a file that is no
// plugin, a truncated one or one of another major version is refused with its name and the fault
// before go-xla calls into it.
func create(c *Choice) (backends.Backend, error) {
	if c.Name == "go" {
		return newPureGo(c.Config)
	}
	name, _, _ := strings.Cut(c.Config, ",")
	path := name
	if !filepath.IsAbs(path) {
		p, ok := pluginFinder()[name]
		if !ok {
			return nil, fmt.Errorf("no PJRT plugin named %q is installed", name)
		}
		path = p
	}
	major, minor, err := pluginVersionReader(path)
	if err != nil {
		return nil, err
	}
	if err := checkAPIVersion(path, major, minor); err != nil {
		return nil, err
	}
	c.PluginPath, c.APIVersion = path, fmt.Sprintf("%d.%d", major, minor)
	return newXLA(c.Config)
}

// checkAPIVersion refuses a plugin whose PJRT C API version go-xla cannot speak.
func checkAPIVersion(path string, major, minor int) error {
	if major != ClientAPIMajor {
		return fmt.Errorf("PJRT plugin %s speaks PJRT C API v%d.%d, go-xla speaks v%d.%d: the major versions differ",
			path, major, minor, ClientAPIMajor, ClientAPIMinor)
	}
	if minor < OldestAPIMinor {
		return fmt.Errorf("PJRT plugin %s speaks PJRT C API v%d.%d, older than v%d.%d, the oldest that works with go-xla v%d.%d",
			path, major, minor, ClientAPIMajor, OldestAPIMinor, ClientAPIMajor, ClientAPIMinor)
	}
	return nil
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
