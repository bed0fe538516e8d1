"""The office dashboard's charts as standalone server-rendered SVG images (no script, no style:
colours are presentation attributes, so the pages' CSP holds and an <img> shows them): bars of
visitors per day, a histogram of waits, an hour × weekday heat map. Numbers in them are
formatted the Indonesian way (texts.number)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

from texts import day_name, number, t

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 220, 44, 24, 12
INK, BAR, HOT, FONT = "#3d5479", "#0a2142", "#c0392b", 'font-family="sans-serif" font-size="11"'
WAIT_BIN_MIN, WAIT_BINS = 5, 12  # 0–5, 5–10, … 55–60 minutes (archive_charts' bins), then 60+


def _svg(kind: str, label: str, body: list[str], height: int = HEIGHT) -> Markup:
    return Markup(f'<svg class="chart {kind}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
                  f'height="{height}" role="img" aria-label="{escape(label)}" '
                  f'xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>'
                  f'{"".join(body)}</svg>')


def _text(x: float, y: float, anchor: str, content: object) -> str:
    return (f'<text class="axis" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{INK}" '
            f'{FONT}>{escape(content)}</text>')


def bars(points: Sequence[tuple[str, str, int]], label: str) -> Markup:
    """Bars of (axis label, hover title, count); the axis names every few points, and the
    highest count labels the y axis."""
    top = max((count for _, _, count in points), default=0) or 1
    plot_w, plot_h = WIDTH - LEFT, HEIGHT - BOTTOM - TOP
    step = plot_w / max(len(points), 1)
    every = max(1, len(points) // 12)
    body = [_text(LEFT - 6, TOP + 10, "end", number(top)),
            f'<line class="base" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH}" '
            f'y2="{TOP + plot_h}" stroke="{INK}"/>']
    for i, (axis, title, count) in enumerate(points):
        h = plot_h * count / top
        x = LEFT + i * step
        body.append(f'<rect class="bar" x="{x + step * 0.12:.1f}" y="{TOP + plot_h - h:.1f}" '
                    f'width="{step * 0.76:.1f}" height="{h:.1f}" fill="{BAR}"><title>'
                    f'{escape(title)}: {number(count)}</title></rect>')
        if i % every == 0:
            body.append(_text(x + step / 2, HEIGHT - 6, "middle", axis))
    return _svg("bars", label, body)


def wait_histogram(bins: Mapping[int, int], label: str) -> Markup:
    """How many visitors waited 0–5, 5–10, … minutes (bins[i]: waits in bin i), and 60 or more."""
    counts = [0] * (WAIT_BINS + 1)
    for i, n in bins.items():
        counts[min(WAIT_BINS, max(0, i))] += n
    points = [(f"{i * WAIT_BIN_MIN}", t("admin.chart.wait_bin", lo=i * WAIT_BIN_MIN,
                                        hi=(i + 1) * WAIT_BIN_MIN), n)
              for i, n in enumerate(counts[:-1])]
    last = WAIT_BINS * WAIT_BIN_MIN
    points.append((f"{last}+", t("admin.chart.wait_over", n=last), counts[-1]))
    return bars(points, label)


def heat_map(cells: Sequence[Sequence[int]], label: str) -> Markup:
    """cells[weekday][hour] (0 = Monday) as shaded squares, darker for more tickets."""
    top = max((n for row in cells for n in row), default=0) or 1
    cell_w, cell_h, left, head = (WIDTH - 70) / 24, 24, 70, 18
    body = [_text(left + (h + 0.5) * cell_w, 12, "middle", h) for h in range(0, 24, 2)]
    for weekday, row in enumerate(cells):
        y = head + weekday * cell_h
        name = day_name(weekday)
        body.append(_text(left - 6, y + 16, "end", name))
        for hour, n in enumerate(row):
            body.append(f'<rect class="cell" x="{left + hour * cell_w:.1f}" y="{y}" '
                        f'width="{cell_w - 2:.1f}" height="{cell_h - 2}" fill="{HOT}" '
                        f'fill-opacity="{0.06 + 0.94 * n / top:.2f}"><title>'
                        f'{escape(name)} {hour:02d}.00: {number(n)}</title></rect>')
    return _svg("heat", label, body, height=head + 7 * cell_h)
