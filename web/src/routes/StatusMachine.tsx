// The status machine drawn as a picture: each stage a box, the current one
// marked, arrows in the protocol's order (a case may also end early, be
// reopened, or skip the hand-off; the actions below say which move is open).
import { useTranslation } from "react-i18next";
import type { CaseStatus } from "../client/types.gen";
import { STATUSES } from "../lib/labels";

const W = 200;
const H = 56;
const GAP_X = 40;
const GAP_Y = 40;

function position(index: number, perRow: number): { x: number; y: number } {
  const row = Math.floor(index / perRow);
  const col = index % perRow;
  return { x: 10 + col * (W + GAP_X), y: 10 + row * (H + GAP_Y) };
}

export function StatusMachine({ status }: { status: CaseStatus }) {
  const { t } = useTranslation();
  const description = t("case.machineDesc", {
    steps: STATUSES.map((s) => t(`status.${s}`)).join(", "),
    current: t(`status.${status}`),
  });
  // Three stages a row on a wide screen, two on a phone (CSS shows one).
  return (
    <figure className="machine">
      <Drawing status={status} perRow={3} description={description} className="wide" />
      <Drawing status={status} perRow={2} description={description} className="phone" />
      <figcaption>{description}</figcaption>
    </figure>
  );
}

function Drawing({
  status,
  perRow,
  description,
  className,
}: {
  status: CaseStatus;
  perRow: number;
  description: string;
  className: string;
}) {
  const { t } = useTranslation();
  const rows = Math.ceil(STATUSES.length / perRow);
  const width = 20 + perRow * W + (perRow - 1) * GAP_X;
  const height = 20 + rows * H + (rows - 1) * GAP_Y;
  const arrow = `arrow-${perRow}`;
  return (
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={description} className={className}>
        <defs>
          <marker id={arrow} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" className="arrow-head" />
          </marker>
        </defs>
        {STATUSES.slice(1).map((s, i) => {
          const from = position(i, perRow);
          const to = position(i + 1, perRow);
          const sameRow = from.y === to.y;
          const d = sameRow
            ? `M ${from.x + W} ${from.y + H / 2} L ${to.x} ${to.y + H / 2}`
            : `M ${from.x + W / 2} ${from.y + H} L ${from.x + W / 2} ${from.y + H + GAP_Y / 2} L ${to.x + W / 2} ${from.y + H + GAP_Y / 2} L ${to.x + W / 2} ${to.y}`;
          return <path key={s} d={d} className="edge" markerEnd={`url(#${arrow})`} fill="none" />;
        })}
        {STATUSES.map((s, i) => {
          const { x, y } = position(i, perRow);
          const current = s === status;
          return (
            <g key={s} className={current ? "node current" : "node"} data-status={s} aria-hidden="true">
              <rect x={x} y={y} width={W} height={H} rx={10} />
              <text x={x + W / 2} y={y + (current ? H / 2 - 4 : H / 2 + 5)} textAnchor="middle">
                {t(`status.${s}`)}
              </text>
              {current && (
                <text x={x + W / 2} y={y + H / 2 + 16} textAnchor="middle" className="small">
                  ({t("case.current")})
                </text>
              )}
            </g>
          );
        })}
      </svg>
  );
}
