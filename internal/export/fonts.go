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

// Font returns the regular face the reports use (DejaVu Sans, TrueType),
// which draws Vietnamese; the archive's captions use it too. The caller
// must not change it.
func Font() []byte { return fontRegular }
