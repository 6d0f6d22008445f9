"""deltabot: automated delta hedging of crypto options books across venues."""

__version__ = "0.1.0"
