// Placeholder entry point; replaced as the issue building Sandbox lands.
return 0;
