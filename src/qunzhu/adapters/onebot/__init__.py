"""QQ through OneBot v11 (go-cqhttp, NapCat, Lagrange…): HTTP POST and reverse WebSocket."""
