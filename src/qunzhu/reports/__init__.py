"""Reports: the weekly report as HTML with inline SVG charts, and PDF."""
