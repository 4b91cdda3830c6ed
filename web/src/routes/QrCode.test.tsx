import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { encode } from "uqr";
import { QUIET_ZONE, QrCode } from "./QrCode";

const URI = "otpauth://totp/Sexto:demo-staff-a?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Sexto&algorithm=SHA1&digits=6&period=30";

/** The dark modules the path draws, read back as a matrix. */
function drawn(d: string, size: number): boolean[][] {
  const matrix = Array.from({ length: size }, () => Array<boolean>(size).fill(false));
  for (const [, x, y] of d.matchAll(/M(\d+) (\d+)h1v1h-1z/g)) matrix[Number(y)][Number(x)] = true;
  return matrix;
}

describe("QrCode", () => {
  it("renders the otpauth URI's matrix as an image with its accessible name", () => {
    render(<QrCode value={URI} label="Code QR de la clé" />);
    const svg = screen.getByRole("img", { name: "Code QR de la clé" });
    const expected = encode(URI, { ecc: "M", border: QUIET_ZONE });
    expect(svg.getAttribute("viewBox")).toBe(`0 0 ${expected.size} ${expected.size}`);
    // A version-4 or larger symbol for a URI of this length: 33 modules and a quiet zone.
    expect(Number(svg.getAttribute("data-modules"))).toBeGreaterThanOrEqual(33);
    const d = svg.querySelector("path")!.getAttribute("d")!;
    expect(drawn(d, expected.size)).toEqual(expected.data);
    // The finder pattern in the top-left corner: a dark 7×7 ring around a dark 3×3 centre.
    const m = drawn(d, expected.size);
    const at = (x: number, y: number) => m[QUIET_ZONE + y][QUIET_ZONE + x];
    for (let i = 0; i < 7; i++) {
      expect([at(i, 0), at(i, 6), at(0, i), at(6, i)]).toEqual([true, true, true, true]);
    }
    expect(at(1, 1) || at(5, 5)).toBe(false);
    expect(at(3, 3)).toBe(true);
    // The quiet zone is light.
    expect(m[0].some(Boolean) || m[QUIET_ZONE - 1].some(Boolean)).toBe(false);
  });

  it("draws nothing the CSP would refuse: no style, no data: URL, no script", () => {
    const { container } = render(<QrCode value={URI} label="QR" />);
    const html = container.innerHTML;
    expect(html).not.toMatch(/style=|data:|<script|<image|href=/);
  });

  it("draws another matrix for another secret", () => {
    const { container } = render(
      <>
        <QrCode value={URI} label="a" />
        <QrCode value={URI.replace("JBSWY3DP", "KRSXG5CT")} label="b" />
      </>,
    );
    const [a, b] = [...container.querySelectorAll("path")].map((p) => p.getAttribute("d"));
    expect(a).not.toBe(b);
  });
});
