// Placeholder entry point; replaced as the issue building Greenhouse.Operator lands.
return 0;
