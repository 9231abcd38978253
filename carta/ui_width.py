"""The width a chart has on screen, measured in the browser: Vega-Lite cannot fit a vconcat chart
(the linked trajectory) to its container, so the page builds it for the width it will have."""

from __future__ import annotations

import streamlit as st

# Reports the width of the element it sits in, in steps of 16 px (so that a resize by a scroll
# bar does not redraw the chart), and again whenever that width changes.
_PROBE_JS = """
export default function (component) {
  const { parentElement, setStateValue } = component;
  const box = parentElement.host || parentElement;
  let last = 0;
  const report = () => {
    const width = Math.floor(box.getBoundingClientRect().width / 16) * 16;
    if (width > 0 && width !== last) {
      last = width;
      setStateValue("width", width);
    }
  };
  const observer = new ResizeObserver(report);
  observer.observe(box);
  report();
  return () => observer.disconnect();
}
"""

_probe = st.components.v2.component("carta_width_probe", js=_PROBE_JS)


def container_width(key: str, default: int) -> tuple[int, bool]:
    """(width, measured): the width in CSS pixels of the column this is called in, and whether
    the browser has measured it yet; `default` until it has (and under AppTest, which draws
    nothing)."""
    result = _probe(key=key, default={"width": None}, on_width_change=lambda: None)
    width = getattr(result, "width", None)
    if isinstance(width, int | float) and width > 0:
        return int(width), True
    return default, False
