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
