// A QR code drawn as inline SVG elements (no data: URL, no inline style, so
// the strict Content-Security-Policy holds). The encoding is uqr's; each dark
// module is a unit square of one path, with a quiet zone of four modules.
import { encode } from "uqr";

export const QUIET_ZONE = 4;

/** The path of the dark modules of ``matrix``: one ``M x y h1 v1 h-1 z`` each. */
export function modulesPath(matrix: boolean[][]): string {
  const parts: string[] = [];
  matrix.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) parts.push(`M${x} ${y}h1v1h-1z`);
    }),
  );
  return parts.join("");
}

export function QrCode({ value, label }: { value: string; label: string }) {
  // Level M: a code on a screen, read by a phone, with room for glare.
  const qr = encode(value, { ecc: "M", border: QUIET_ZONE });
  return (
    <svg
      className="qr"
      role="img"
      aria-label={label}
      viewBox={`0 0 ${qr.size} ${qr.size}`}
      width={qr.size * 4}
      height={qr.size * 4}
      shapeRendering="crispEdges"
      data-modules={qr.size - 2 * QUIET_ZONE}
    >
      <rect width={qr.size} height={qr.size} fill="#ffffff" />
      <path d={modulesPath(qr.data)} fill="#000000" />
    </svg>
  );
}
