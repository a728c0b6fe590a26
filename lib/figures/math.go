package figures

import (
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	stdfnt "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgpdf"
)

// Math lets the plots typeset simple LaTeX math in their title, axis labels, tick labels,
// legend and heat-map colour bar: in a text holding '$', what lies between a pair of '$' is set
// as math, with subscripts and superscripts (`_0`, `_{\ell-1}`, `^2`, `^{(k)}`, nested),
// Greek letters and common symbols as macros (`\alpha`…`\omega`, `\Delta`, `\Sigma`, `\ell`,
// `\|`, `\cdot`, `\times`, `\pm`, `\le`, `\ge`, `\approx`, `\sum`, `\infty`, …), `\bar{x}`,
// `\mathrm{…}` and `\text{…}`, Latin letters in italics and '-' as a minus sign: `$a_0$`, `$x_{\ell-1}$`, `$\|\Delta\|^2_F$`, `copy $a_0$ to every layer`. A text
// without '$' is drawn exactly as before. (gonum's own text.Latex handler cannot set
// subscripts or superscripts, hence this one.) Call Math after building a plot (Lines, Bars,
// Heatmap); nil plots are skipped. A text that is not valid math (an unknown macro, an
// unbalanced '$' or brace) makes Save fail with an error naming it; CheckMath finds it earlier.
func Math(plots ...*plot.Plot) {
	h := MathHandler{Fonts: font.DefaultCache}
	for _, p := range plots {
		if p == nil {
			continue
		}
		p.TextHandler = h
		for _, sty := range []*text.Style{&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle,
			&p.X.Tick.Label, &p.Y.Tick.Label, &p.Legend.TextStyle} {
			sty.Handler = h
		}
	}
}

// CheckMath returns an error if txt holds math that Math cannot set (check labels made from
// data before drawing them); a text without '$' is always fine.
func CheckMath(txt string) error {
	for _, line := range strings.Split(txt, "\n") {
		if _, err := parseMath(line); err != nil {
			return fmt.Errorf("figures: text %q: %w", txt, err)
		}
	}
	return nil
}

// MathHandler is the text.Handler that Math installs; use it directly for a text.Style of your
// own (e.g. plotter.Labels). Fonts is the font cache, normally font.DefaultCache.
type MathHandler struct {
	Fonts *font.Cache
}

var _ text.Handler = MathHandler{}

func (h MathHandler) plain() text.Plain { return text.Plain{Fonts: h.Fonts} }

// Cache implements text.Handler.
func (h MathHandler) Cache() *font.Cache { return h.Fonts }

// Extents implements text.Handler.
func (h MathHandler) Extents(fnt font.Font) font.Extents { return h.plain().Extents(fnt) }

// Lines implements text.Handler.
func (h MathHandler) Lines(txt string) []string { return h.plain().Lines(txt) }

// Box implements text.Handler. It panics on malformed math, as gonum's handlers do.
func (h MathHandler) Box(txt string, fnt font.Font) (width, height, depth vg.Length) {
	if !strings.Contains(txt, "$") {
		return h.plain().Box(txt, fnt)
	}
	runs, width := h.layout(txt, fnt)
	base := h.Fonts.Lookup(fnt, fnt.Size)
	ext := base.Extents()
	height, depth = ext.Ascent, ext.Descent
	for _, r := range runs {
		e := r.face.Extents()
		height, depth = max(height, e.Ascent+r.rise), max(depth, e.Descent-r.rise)
	}
	return width, height, depth
}

// Draw implements text.Handler, placing lines as text.Plain does.
func (h MathHandler) Draw(c vg.Canvas, txt string, sty text.Style, pt vg.Point) {
	txt = strings.TrimRight(txt, "\n")
	if !strings.Contains(txt, "$") {
		h.plain().Draw(c, txt, sty, pt)
		return
	}
	c.SetColor(sty.Color)
	if sty.Rotation != 0 {
		c.Push()
		defer c.Pop()
		c.Rotate(sty.Rotation)
	}
	sin, cos := math.Sincos(sty.Rotation)
	pt.X, pt.Y = pt.Y*vg.Length(sin)+pt.X*vg.Length(cos), pt.Y*vg.Length(cos)-pt.X*vg.Length(sin)
	lines := h.Lines(txt)
	base := h.Fonts.Lookup(sty.Font, sty.Font.Size)
	pt.Y += sty.Height(txt)*vg.Length(sty.YAlign) - base.Extents().Ascent
	pdf := isPDF(c)
	for i, line := range lines {
		runs, w := h.layout(line, sty.Font)
		at := pt.Add(vg.Point{X: vg.Length(sty.XAlign) * w, Y: vg.Length(len(lines)-i) * sty.Font.Size})
		for _, r := range runs {
			face := r.face
			if pdf && face.Font.Style != stdfnt.StyleNormal {
				// vgpdf registers every font under the style "" but selects an italic one under
				// "I", and fails; the same font data under a name of its own has no style.
				face.Font.Variant += "Italic"
				face.Font.Style = stdfnt.StyleNormal
			}
			o := at.Add(vg.Point{X: r.x, Y: r.rise})
			c.FillString(face, o, r.text)
			if r.over {
				y := o.Y + overlineHeight*face.Font.Size
				var bar vg.Path
				bar.Move(vg.Point{X: o.X + 0.1*face.Font.Size, Y: y})
				bar.Line(vg.Point{X: o.X + r.width, Y: y})
				c.SetLineWidth(0.05 * face.Font.Size)
				c.Stroke(bar)
			}
		}
	}
}

// overlineHeight is the height of \bar's line above the baseline, in units of the font size.
const overlineHeight = 0.8

// isPDF reports whether c draws (through draw.Canvas wrappers) on a vgpdf canvas.
func isPDF(c vg.Canvas) bool {
	for {
		switch cc := c.(type) {
		case draw.Canvas:
			c = cc.Canvas
		case *draw.Canvas:
			c = cc.Canvas
		case *vgpdf.Canvas:
			return true
		default:
			return false
		}
	}
}

// run is a piece of text in one face, x along the line and raised by rise above the baseline.
type run struct {
	text    string
	face    font.Face
	x, rise vg.Length
	width   vg.Length
	over    bool
	group   int
}

// layout sets one line of txt in runs and returns them with the line's width; it panics on
// malformed math. A script that follows a script of the other kind (x_i^2) is set above or
// below it rather than after it.
func (h MathHandler) layout(txt string, fnt font.Font) ([]run, vg.Length) {
	atoms, err := parseMath(txt)
	if err != nil {
		panic(fmt.Sprintf("figures: text %q: %v", txt, err))
	}
	var (
		runs                   []run
		x, width               vg.Length
		group                  int       // the script group being set, 0 for none
		groupStart, stackedEnd vg.Length // where the group began; where a stacked pair ends
		prevStart              vg.Length // where the previous script group began
	)
	for _, a := range atoms {
		if a.group != group { // leaving a group and/or entering one
			x = max(x, stackedEnd)
			stackedEnd = 0
			if group != 0 {
				prevStart = groupStart
			}
			if a.group != 0 {
				if a.stack {
					stackedEnd, x = x, prevStart
				}
				groupStart = x
			}
			group = a.group
		}
		f := fnt
		f.Size = fnt.Size * vg.Length(math.Pow(scriptScale, float64(a.level)))
		if a.italic {
			f.Style = stdfnt.StyleItalic
		}
		face := h.Fonts.Lookup(f, f.Size)
		rise := vg.Length(a.rise) * fnt.Size
		if n := len(runs); n > 0 {
			if l := &runs[n-1]; l.face.Font == face.Font && l.rise == rise && l.over == a.over && l.group == a.group && l.x+l.width == x {
				l.text += a.text
				w := l.face.Width(l.text)
				x += w - l.width
				l.width = w
				width = max(width, x)
				continue
			}
		}
		w := face.Width(a.text)
		runs = append(runs, run{text: a.text, face: face, x: x, rise: rise, width: w, over: a.over, group: a.group})
		x += w
		width = max(width, x)
	}
	return runs, max(width, x, stackedEnd)
}

// Script sizes and shifts, as fractions of the font size of the text they are in.
const (
	scriptScale = 0.7
	subShift    = -0.25
	supShift    = 0.42
)

// atom is a piece of set math: text at a script level (0 = the base size), raised by rise (in
// units of the base font size), in italics or not.
// group numbers the script (_ or ^ argument) it belongs to, 0 for none; stack says the script
// is set under or over the script just before it; over draws a line above it (\bar).
type atom struct {
	text   string
	level  int
	rise   float64
	italic bool
	group  int
	stack  bool
	over   bool
}

// splitDollars splits a line at each '$' not escaped as `\$`; outside math, `\$` stands for '$'.
func splitDollars(line string) []string {
	parts := []string{""}
	for i := 0; i < len(line); i++ {
		inMath := len(parts)%2 == 0
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '$':
			if inMath {
				parts[len(parts)-1] += `\$`
			} else {
				parts[len(parts)-1] += "$"
			}
			i++
		case line[i] == '$':
			parts = append(parts, "")
		default:
			parts[len(parts)-1] += line[i : i+1]
		}
	}
	return parts
}

// parseMath splits a line into atoms: text outside '$' as is, math inside.
func parseMath(line string) ([]atom, error) {
	var atoms []atom
	parts := splitDollars(line)
	if len(parts)%2 == 0 {
		return nil, fmt.Errorf("unbalanced '$': %d of them", len(parts)-1)
	}
	for i, part := range parts {
		if i%2 == 0 {
			if part != "" {
				atoms = append(atoms, atom{text: part})
			}
			continue
		}
		m := mathParser{src: part}
		out, err := m.list(0, 0, false)
		if err != nil {
			return nil, fmt.Errorf("math $%s$: %w", part, err)
		}
		atoms = append(atoms, out...)
	}
	return atoms, nil
}

// mathParser parses the inside of one $…$.
type mathParser struct {
	src       string
	pos       int
	groups    int  // script groups numbered so far
	keepSpace bool // inside \text{…}
}

// list parses atoms up to the end, or up to a closing brace when inGroup.
func (m *mathParser) list(level int, rise float64, inGroup bool) ([]atom, error) {
	var out []atom
	lastScript := byte(0) // '_' or '^' if the previous item of this list was that script
	for m.pos < len(m.src) {
		ch := m.src[m.pos]
		switch ch {
		case '}':
			if !inGroup {
				return nil, fmt.Errorf("unbalanced '}' at %d", m.pos)
			}
			m.pos++
			return out, nil
		case '_', '^':
			m.pos++
			shift := supShift
			if ch == '_' {
				shift = subShift
			}
			scale := math.Pow(scriptScale, float64(level))
			arg, err := m.argument(level+1, rise+shift*scale)
			if err != nil {
				return nil, fmt.Errorf("%c: %w", ch, err)
			}
			m.groups++
			for i := range arg {
				arg[i].group = m.groups
				arg[i].stack = lastScript != 0 && lastScript != ch
			}
			out = append(out, arg...)
			if lastScript != 0 && lastScript != ch {
				lastScript = 0 // x_i^2_j: the third script follows the pair
			} else {
				lastScript = ch
			}
			continue
		}
		lastScript = 0
		a, err := m.atom(level, rise)
		if err != nil {
			return nil, err
		}
		out = append(out, a...)
	}
	if inGroup {
		return nil, fmt.Errorf("unbalanced '{'")
	}
	return out, nil
}

// argument parses one atom or a {group}, as after '_', '^' or a macro taking an argument.
func (m *mathParser) argument(level int, rise float64) ([]atom, error) {
	if m.pos >= len(m.src) {
		return nil, fmt.Errorf("missing argument at the end")
	}
	switch m.src[m.pos] {
	case '{':
		m.pos++
		return m.list(level, rise, true)
	case '}', '_', '^':
		return nil, fmt.Errorf("missing argument before %q", m.src[m.pos])
	}
	return m.atom(level, rise)
}

// atom parses one character, macro or {group}.
func (m *mathParser) atom(level int, rise float64) ([]atom, error) {
	r, size := utf8.DecodeRuneInString(m.src[m.pos:])
	switch {
	case r == '{':
		m.pos++
		return m.list(level, rise, true)
	case r == '\\':
		return m.macro(level, rise)
	case r == '-':
		m.pos++
		return []atom{{text: "−", level: level, rise: rise}}, nil
	case r == ' ' && !m.keepSpace:
		m.pos++ // spaces in math are ignored, as in LaTeX
		return nil, nil
	}
	m.pos += size
	return []atom{{text: string(r), level: level, rise: rise, italic: r < unicode.MaxASCII && unicode.IsLetter(r)}}, nil
}

// macro parses \name or \symbol.
func (m *mathParser) macro(level int, rise float64) ([]atom, error) {
	start := m.pos
	m.pos++ // the backslash
	if m.pos >= len(m.src) {
		return nil, fmt.Errorf("lone '\\' at the end")
	}
	end := m.pos
	for end < len(m.src) && (m.src[end] >= 'a' && m.src[end] <= 'z' || m.src[end] >= 'A' && m.src[end] <= 'Z') {
		end++
	}
	if end == m.pos { // a one-character macro: \| \, \{ …
		end++
	}
	name := m.src[m.pos:end]
	m.pos = end
	if sym, ok := mathSymbols[name]; ok {
		return []atom{{text: sym, level: level, rise: rise, italic: isLowerGreek(sym)}}, nil
	}
	switch name {
	case "mathrm", "text", "operatorname", "mathit", "mathbf":
		m.keepSpace = name == "text"
		arg, err := m.argument(level, rise)
		m.keepSpace = false
		if err != nil {
			return nil, fmt.Errorf(`\%s: %w`, name, err)
		}
		for i := range arg {
			arg[i].italic = name == "mathit"
		}
		return arg, nil
	case "bar", "overline":
		arg, err := m.argument(level, rise)
		if err != nil {
			return nil, fmt.Errorf(`\%s: %w`, name, err)
		}
		for i := range arg {
			arg[i].over = true
		}
		return arg, nil
	}
	return nil, fmt.Errorf("unknown macro %q at %d", m.src[start:end], start)
}

func isLowerGreek(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return r >= 'α' && r <= 'ω'
}

// mathSymbols are the macros set as one character (or a space).
var mathSymbols = map[string]string{
	"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε", "zeta": "ζ",
	"eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ",
	"pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "ϕ", "varphi": "φ", "chi": "χ",
	"psi": "ψ", "omega": "ω",
	"Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ",
	"Psi": "Ψ", "Omega": "Ω",
	"ell": "ℓ", "|": "‖", "Vert": "‖", "vert": "|", "cdot": "·", "times": "×", "pm": "±", "le": "≤", "leq": "≤",
	"ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈", "sim": "∼", "propto": "∝", "sum": "Σ", "prod": "Π",
	"infty": "∞", "partial": "∂", "nabla": "∇", "to": "→", "rightarrow": "→", "leftarrow": "←", "in": "∈",
	"langle": "⟨", "rangle": "⟩", "circ": "∘", "top": "⊤", "star": "⋆", "ast": "∗", "ldots": "…", "cdots": "⋯",
	"log": "log", "exp": "exp", "cos": "cos", "sin": "sin", "max": "max", "min": "min", "arg": "arg", "tr": "tr",
	",": "\u2009", ";": "\u2005", ":": "\u2005", " ": " ", "quad": "\u2003", "!": "",
	"{": "{", "}": "}", "_": "_", "$": "$", "%": "%", "#": "#", "&": "&",
}
