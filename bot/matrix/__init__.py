"""Matrix transport (matrix-nio): end-to-end encrypted DMs and rooms, numbered options."""

from bot.matrix.transport import MatrixStartError, MatrixTransport

__all__ = ["MatrixStartError", "MatrixTransport"]
