// Placeholder entry point; replaced as the issue building Greenhouse.Receiver lands.
return 0;
