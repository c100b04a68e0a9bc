"""WeCom (企业微信) customer groups: callbacks (msg_signature + AES) and the API."""
