Console.Error.WriteLine("usage: order-support [--poll] [--new] [--conversation KEY] [--approve] <message words…>");
return 2;
