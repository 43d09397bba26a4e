"""Rasa input channels of the assistant: the WeChat official account (bot.channels.wechat.WeChatInput)."""
