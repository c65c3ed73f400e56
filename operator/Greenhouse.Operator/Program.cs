using Greenhouse.Operator.Crds;

if (args is ["crds", .. var rest])
{
    return CrdCommand.Run(rest, Console.Out, Console.Error);
}

return 0;
