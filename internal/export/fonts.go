package export

import _ "embed"

// DejaVu Sans covers Vietnamese; the fonts are free to redistribute (see
// fonts/LICENSE) and are embedded so that the PDF looks the same on every
// host.
var (
	//go:embed fonts/DejaVuSans.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSans-Bold.ttf
	fontBold []byte
)

// RegularFont returns the TrueType file of DejaVu Sans, the regular face
// the exports use, which has the Vietnamese glyphs. The slice is a copy the
// caller may keep or change; other packages that draw Vietnamese text (the
// archive composer's captions) use it so that every output shows the same
// face.
func RegularFont() []byte { return append([]byte(nil), fontRegular...) }
